"""The `phone` report section: the run's model as a MediaPipe-ready bundle, checked.

Every image scenario writes `phone/model.tflite` and `phone/labels.txt` (see
`kerasopt.export.build_image_bundle`) and scores the bundle on LiteRT and through
MediaPipe's `ImageClassifier` on the test split.
"""

from __future__ import annotations

from kerasopt.export.bundle_check import bundle_image_classifier
from kerasopt.export.image_bundle import LABELS_FILE
from kerasopt.scenarios.report_section import ReportSection, SectionContext

PHONE_FOLDER = "phone"


def image_phone_bundle(context: SectionContext) -> ReportSection:
    """Builds, writes and checks the image bundle of the run's model.

    Example:

    >>> from kerasopt.scenarios import get_scenario
    >>> image_phone_bundle in get_scenario("digits").sections
    True
    """
    splits = context.data.splits
    int8 = next((e for e in context.exported if e.variant == "int8"), None)
    check = bundle_image_classifier(
        context.model,
        splits,
        context.out_dir / PHONE_FOLDER,
        int8_bytes=int8.metrics.bytes if int8 is not None else None,
        name=f"kerasopt {context.scenario_name} {context.model_name}",
        description=(
            f"{context.scenario_name}: classifies a {splits.input_shape[0]}x"
            f"{splits.input_shape[1]} image into {splits.num_classes} classes."
        ),
    )
    heading = f"## Phone bundle: `{PHONE_FOLDER}/model.tflite` + `{LABELS_FILE}`"
    intro = (
        "uint8 RGB in (what a camera gives), the preprocessing inside the graph, int8 "
        "inside, metadata and labels packed; scored on the test split as pixels."
    )
    return ReportSection(
        PHONE_FOLDER,
        check.to_dict(),
        markdown=(heading, "", intro, "", *check.markdown(), ""),
        summary=check.summary(),
    )
