"""Error types that carry a message fit to show an operator as is."""


class EdgeOcrError(Exception):
    """Base for every error edge_ocr reports to a user."""


class ModelError(EdgeOcrError):
    """A model file is missing, corrupt, or does not match its manifest."""


class ImageError(EdgeOcrError):
    """An input file cannot be read as an image or document."""


class ConfigError(EdgeOcrError):
    """A setting is unknown or has a bad value; `problems` lists each one when a file had several."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems) if problems else [message]


class StoreError(EdgeOcrError):
    """The local store cannot be opened or written."""


class StoreFullError(StoreError):
    """The disk (or the store's own cap) is full: new scans are refused, stored data stays intact."""
