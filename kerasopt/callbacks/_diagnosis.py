"""The texts TrainingHealth reports: what went wrong, where, and how to fix it."""

import math

# Completions of "Fix: ...", so two can be joined into one sentence.
FIX_UPDATE = (
    "lower the learning rate (divide it by 10, or pick one with kerasopt.find_lr), "
    "clip gradients (clipnorm=1.0 on the optimizer, or wrap it in "
    "kerasopt.optimizers.AdaptiveGradientClipping), and look for log, sqrt or division of "
    "values that can reach 0 in custom layers and losses"
)
FIX_DATA = (
    "check inputs and labels for NaN/Inf (np.isfinite(x).all()) and labels outside "
    "the loss's range (class ids >= num_classes, negative values under a log)"
)


def explain_nan(where, loss, bad_layers, layer_names, *, before_step, probe, diverged):
    """Returns `(layer, text)` for a NaN/Inf loss or weights; `layer` may be None.

    `bad_layers` are the layers with non-finite weights in model order, `layer_names` all
    layers with weights; `before_step` is True (or `"first"` for a fit's first step) when
    they were found before the step ran; `probe` a callable returning the gradient probe
    (or None); `diverged` whether the loss or gradients were already reported growing.
    """
    total_layers, first_layer = len(layer_names), layer_names[0] if layer_names else None
    if bad_layers:
        layer = bad_layers[0]
        text = f"the weights of layer {layer!r} became NaN/Inf {where}"
        if len(bad_layers) > 1:
            shown = ", ".join(repr(n) for n in bad_layers[:5])
            text += f" ({len(bad_layers)} of {total_layers} layers affected: {shown})"
        if before_step == "first":
            return layer, text + (
                ". Training started from non-finite weights. Fix: check the initializers and "
                "any weights loaded or set before fit."
            )
        if before_step:
            return layer, text + (
                ". They were finite after the previous step, so code outside the training "
                "step changed them (another callback, or code run between batches). Fix: "
                "check callbacks and code that assign weights."
            )
        if loss is None or math.isfinite(loss):
            text += (
                ". The loss was still finite, so this step's update produced them: the step "
                "was too large, its gradient overflowed"
            )
            if layer != first_layer:
                return layer, f"{text}. Fix: {FIX_UPDATE}."
            # A ReLU maps NaN to 0, so NaN inputs can poison only the first layer.
            return layer, (
                f"{text}, or NaN/Inf inputs reached it. Fix: {FIX_DATA}; if they are clean, "
                f"{FIX_UPDATE}."
            )
        if diverged:
            return layer, text + (
                f". The loss is {loss} too, and it was already growing (see the earlier "
                f"warning), so the learning rate is too high. Fix: {FIX_UPDATE}."
            )
        if len(bad_layers) == total_layers > 1:
            return layer, text + (
                f". The loss is {loss} too and every layer failed in the same step, so the "
                "fault came in through this batch's forward pass (bad inputs or labels, or an "
                f"overflow in the loss) and the update spread it. Fix: {FIX_DATA}; if they are "
                f"clean, {FIX_UPDATE}."
            )
        return layer, text + f". The loss is {loss} too. Fix: {FIX_UPDATE}."
    if probe is None:
        return None, (
            f"the loss became {loss} {where} while every weight is finite. Gradients were not "
            "checked, so no layer can be named: pass TrainingHealth(probe_data=(x[:32], "
            f"y[:32])) to locate it. Fix: {FIX_DATA}; if they are clean, {FIX_UPDATE}."
        )
    nonfinite = probe()["nonfinite"]
    if nonfinite:
        return nonfinite[0], (
            f"the loss became {loss} {where} while every weight is finite; on probe_data the "
            f"gradients of layer {nonfinite[0]!r} are the first (in model order) to be "
            f"NaN/Inf, so the computation through it overflows. Fix: {FIX_UPDATE}."
        )
    return None, (
        f"the loss became {loss} {where} while every weight and every gradient on probe_data "
        f"is finite, so the fault is in the training batch itself. Fix: {FIX_DATA}."
    )


def exploding_text(step, epoch, norm, reason):
    return (
        f"exploding gradients at step {step} (epoch {epoch}): the global gradient norm on "
        f"probe_data is {norm:.4g}, {reason}. Fix: clip gradients (clipnorm=1.0 or "
        "global_clipnorm=1.0 on the optimizer, or wrap it in "
        "kerasopt.optimizers.AdaptiveGradientClipping), lower the learning rate, and "
        "normalize inputs and regression targets."
    )


def vanishing_text(step, epoch, ratios, threshold):
    shown = ", ".join(f"{name!r} ({ratio:.2g})" for name, ratio in list(ratios.items())[:5])
    return (
        f"vanishing gradients at step {step} (epoch {epoch}): gradient norm / weight norm is "
        f"below vanishing_threshold={threshold:g} for {len(ratios)} layer(s): {shown}; they "
        "barely learn. Fix: add BatchNormalization, use ReLU-family activations instead of "
        "sigmoid/tanh, He initialization (kernel_initializer='he_normal'), or residual "
        "connections."
    )


def diverging_text(step, epoch, loss, first_loss, factor):
    return (
        f"the loss is diverging at step {step} (epoch {epoch}): {loss:.4g} is over "
        f"divergence_factor={factor:g} times the first batch's {first_loss:.4g}, so the "
        "learning rate is too high. Fix: divide the learning rate by 10, or pick one with "
        "kerasopt.find_lr(model, x, y)."
    )


def overfitting_text(epoch, epochs, best_val, best_epoch, loss, val_loss):
    return (
        f"the train/validation gap is growing at epoch {epoch}: val_loss has stayed above its "
        f"best ({best_val:.4g} at epoch {best_epoch}) for {epochs} epochs while loss kept "
        f"falling (now loss={loss:.4g}, val_loss={val_loss:.4g}); the model is overfitting. "
        "Fix: add data augmentation (kerasopt.augment) or regularization (L2, dropout), get "
        "more data, or stop earlier with keras.callbacks.EarlyStopping("
        "restore_best_weights=True)."
    )
