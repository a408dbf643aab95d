"""The one domain exception that the CLI turns into exit code 2."""


class CurvecastError(ValueError):
    """Bad input or an impossible request, with a message that names the way out."""


class DiagnosticsWarning(UserWarning):
    """The sampler's diagnostics failed: divergences, r-hat or ESS out of bounds."""


class SlowPathWarning(UserWarning):
    """A slower path was taken (e.g. the compiled-model cache could not serve a model); names the cause."""
