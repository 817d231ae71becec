import pytest

from kerasopt.core.errors import (
    InvalidNumberError,
    InvalidTypeError,
    InvalidValueError,
    KerasoptError,
    MissingFileError,
    OutputLockedError,
)
from kerasopt.core.suggestions import did_you_mean, unknown_name_message


@pytest.mark.parametrize(
    "received, choices, hint",
    [
        ("epohcs", ["epochs", "seed"], " Did you mean 'epochs'?"),
        ("DIGITS", ["digits", "mnist"], " Did you mean 'digits'?"),
        ("zzz", ["epochs"], ""),
        (3, [1, 2, 30], " Did you mean '30'?"),
    ],
    ids=["typo", "case", "nothing-close", "number"],
)
def test_did_you_mean(received, choices, hint):
    assert did_you_mean(received, choices) == hint


def test_unknown_name_message_lists_every_choice_and_the_closest():
    message = unknown_name_message("scenario", "fashion-mnist", ["digits", "fashion_mnist"])
    assert message == (
        "Unknown scenario 'fashion-mnist'. Expected one of: digits, fashion_mnist. "
        "Did you mean 'fashion_mnist'?"
    )


@pytest.mark.parametrize(
    "error, builtin",
    [
        (InvalidValueError, ValueError),
        (InvalidTypeError, TypeError),
        (InvalidNumberError, ValueError),
        (InvalidNumberError, TypeError),
        (MissingFileError, FileNotFoundError),
        (OutputLockedError, RuntimeError),
    ],
    ids=["value", "type", "number-as-value", "number-as-type", "file", "lock"],
)
def test_user_errors_are_kerasopt_errors_and_their_builtin(error, builtin):
    assert issubclass(error, KerasoptError) and issubclass(error, builtin)
