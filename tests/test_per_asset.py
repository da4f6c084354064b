import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from eventstudy.inference.per_asset import adjust_pvalues


def test_adjustment_matches_statsmodels_per_family_with_ties_and_nans():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.2, 40)
    p[[3, 4]] = p[2]  # ties
    p[[7, 30]] = np.nan
    table = pd.DataFrame({"fam": np.repeat(["a", "b", "c", "d"], 10), "pvalue": p})
    table = table.sample(frac=1, random_state=1)  # order must not matter
    out = adjust_pvalues(table, ["fam"])
    for _, part in out.groupby("fam"):
        ok = part["pvalue"].notna()
        holm = multipletests(part.loc[ok, "pvalue"], method="holm")[1]
        bh = multipletests(part.loc[ok, "pvalue"], method="fdr_bh")[1]
        np.testing.assert_allclose(part.loc[ok, "pvalue_holm"], holm, rtol=1e-14)
        np.testing.assert_allclose(part.loc[ok, "pvalue_bh"], bh, rtol=1e-14)
        assert part.loc[~ok, ["pvalue_holm", "pvalue_bh"]].isna().all().all()
