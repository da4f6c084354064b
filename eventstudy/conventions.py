"""Named sets of formula choices ("conventions"), recorded in every results object.

The default ``"clm"`` preset follows Campbell, Lo & MacKinlay (1997, ch. 4): residual variance
:math:`SSR/(L_1-k)`, prediction-error-corrected variances, Student-t reference with
:math:`L_1-k` degrees of freedom for single asset-events. ``"estudy2"`` reproduces the R
package estudy2 0.10.0 (see ``docs/estudy2_conventions.md``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from eventstudy._typing import CONVENTIONS, check_option

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Conventions", "get_conventions"]


@dataclass(frozen=True)
class Conventions:
    """Formula choices used by estimation and inference.

    Attributes
    ----------
    name : str
        Preset name.
    sigma_ddof : {"k", "1"}
        Residual variance divisor: ``"k"`` gives :math:`SSR/(L_1-k)`, ``"1"`` gives
        :math:`SSR/(L_1-1)` (R's ``sd()`` of the residuals).
    prediction_error : bool
        Whether AR and CAR variances include the estimation-error term.
    single_dist : {"t", "normal"}
        Reference distribution of the single asset-event t statistic.
    """

    name: str = "clm"
    sigma_ddof: str = "k"
    prediction_error: bool = True
    single_dist: str = "t"

    def to_frame(self) -> pd.DataFrame:
        """The settings as a two-column DataFrame (setting, value)."""
        import pandas as pd

        return pd.DataFrame(list(asdict(self).items()), columns=["setting", "value"])


_PRESETS = {
    "clm": Conventions(),
    "estudy2": Conventions(name="estudy2", sigma_ddof="1", prediction_error=False,
                           single_dist="normal"),
}


def get_conventions(conventions: str | Conventions = "clm") -> Conventions:
    """Return a :class:`Conventions` preset by name, or ``conventions`` itself."""
    if isinstance(conventions, Conventions):
        return conventions
    return _PRESETS[check_option("conventions", conventions, CONVENTIONS)]
