"""What a `tfeff-train` run depends on, as one frozen value (saved as
`config.json`); pure Python, so `tfeff-train --help` starts no TensorFlow."""

import dataclasses
import os

EXPORTS = ("int8", "float16", "float32")
STAGES = ("frozen", "finetune", "qat")


@dataclasses.dataclass(frozen=True)
class FinetuneConfig:
    """Everything a fine-tuning run depends on (saved as config.json)."""

    model: str
    data: str
    out: str
    weights: str = "imagenet"
    source: str = ""  # the reference that wrote a weights file, if any
    image_size: int = 0  # 0: the variant's own resolution
    epochs: int = 10
    freeze_epochs: int = 2
    qat_epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 1e-3
    validation_fraction: float = 0.2
    export: str = "int8"
    edgetpu: bool = False
    seed: int = 0

    def __post_init__(self):
        from tfeff.models.registry import get_variant

        get_variant(self.model)  # ValueError naming it and the known ones
        for name, low in (
            ("epochs", 1),
            ("freeze_epochs", 0),
            ("qat_epochs", 0),
            ("batch_size", 1),
            ("seed", 0),
            ("image_size", 0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(
                    f"`{name}` must be an int. Received: {name}={value!r}"
                )
            if value < low:
                raise ValueError(
                    f"`{name}` must be >= {low}. Received: {name}={value}"
                )
        if self.image_size and self.image_size < 32:
            raise ValueError(
                "`image_size` must be >= 32 (or 0: the variant's). "
                f"Received: image_size={self.image_size}"
            )
        if not (self.learning_rate > 0 and self.learning_rate < 1):
            raise ValueError(
                "`learning_rate` must be in (0, 1). Received: "
                f"learning_rate={self.learning_rate!r}"
            )
        if not 0 < self.validation_fraction < 1:
            raise ValueError(
                "`validation_fraction` must be in (0, 1). Received: "
                f"validation_fraction={self.validation_fraction!r}"
            )
        if self.export not in EXPORTS:
            raise ValueError(
                f"`export` must be one of {EXPORTS}. Received: "
                f"export={self.export!r}"
            )
        if self.edgetpu and self.export != "int8":
            raise ValueError(
                "--edgetpu needs --export int8 (the EdgeTPU runs int8 only)."
            )
        if self.weights not in ("imagenet", "none") and not os.path.isfile(
            self.weights
        ):
            raise ValueError(
                "`weights` must be 'imagenet', 'none' or a weights file. "
                f"Received: weights={self.weights!r}"
            )
        folder = data_folder(self.data)
        if not os.path.isdir(folder):
            raise ValueError(
                "`data` must be a class-per-folder tree (folder:PATH or "
                f"PATH). Received: data={self.data!r}"
            )


def data_folder(data):
    """The folder of a `folder:PATH` (or plain PATH) data argument."""
    return data[len("folder:") :] if data.startswith("folder:") else data
