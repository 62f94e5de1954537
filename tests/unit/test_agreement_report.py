"""AC1 and Krippendorff's alpha in the agreement report, CLI and export (issue 10)."""

from __future__ import annotations

import math

import pytest

from myoscore.agreement import gwet_ac, krippendorff_alpha
from myoscore.app.agreement_report import POOLED_LABEL, agreement_rows
from myoscore.schemes import Protocol


def test_rows_carry_ac1_and_alpha(nxp2: Protocol) -> None:
    """Each row's AC1 and α equal the library functions on the same compared pairs; the
    ordinal edema rows use ordinal α, binary rows nominal α."""
    a = {"edema.thigh.anterior.R": "2", "edema.thigh.medial.R": "3", "edema.thigh.posterior.R": "0",
         "subcutaneous_edema.thigh.anterior.R": "1", "subcutaneous_edema.thigh.medial.R": "0"}
    b = {"edema.thigh.anterior.R": "3", "edema.thigh.medial.R": "3", "edema.thigh.posterior.R": "NE",
         "subcutaneous_edema.thigh.anterior.R": "1", "subcutaneous_edema.thigh.medial.R": "1"}
    rows = {row.label: row for row in agreement_rows(nxp2, [(a, b), (b, a)])}
    edema = rows["Muscle edema, thigh"]
    keys = [it.key for it in nxp2.items if it.measure == "edema" and it.unit.region == "thigh"]
    table = [[x.get(k), y.get(k)] for x, y in ((a, b), (b, a)) for k in keys]
    codes = nxp2.scales["edema_0_5"].codes
    assert edema.ac1 == pytest.approx(gwet_ac(table, categories=codes).ac)
    assert edema.alpha == pytest.approx(krippendorff_alpha(table, level="ordinal", categories=codes).alpha)
    assert edema.alpha_level == "ordinal"
    assert rows["Subcutaneous edema, thigh"].alpha_level == "nominal"
    assert not math.isnan(rows["Subcutaneous edema, thigh"].ac1)
    assert rows[POOLED_LABEL].kind == "overall"
