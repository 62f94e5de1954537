"""What every exported column means: one table for the XLSX dictionary and the docs."""

from __future__ import annotations

COLUMNS: dict[str, str] = {
    # which exam
    "subject": "Pseudonymous subject code (never a name, PatientID or birth date).",
    "group": "The subject's study group, as the coordinator assigned it.",
    "timepoint": "Timepoint label of the exam (e.g. baseline, follow-up); the exam date is never exported.",
    "exam_order": "Position of the exam among the subject's exams: 1 = first (baseline).",
    "months_from_onset": "Months from disease onset to the exam (clinical field chosen for export).",
    "treated": "Treated at the time of the exam: 1 yes, 0 no, empty unknown.",
    # which read
    "source": "Whose values: reader:<name> for one reader's read, consensus for the reconciled value.",
    # item description
    "item_key": "Stable item key of the protocol: <measure>.<atlas unit>[.<side>].",
    "measure": "What is scored (edema, fat, stir, t1, …), as declared by the protocol.",
    "indicator": "The indicator the item counts towards in the agreement report.",
    "sequence": "MRI sequence the item is scored on (STIR, T1).",
    "region": "Atlas region of the unit (thigh, calf, pelvis, …).",
    "compartment": "Atlas compartment of the unit; empty for a region-level item.",
    "unit": "Atlas unit key (region, compartment or muscle) the item is scored on.",
    "unit_name": "Atlas unit name.",
    "unit_level": "Whether the unit is a region, a compartment or a muscle.",
    "side": "R right, L left, empty for an item not scored per side.",
    "scale": "Scale of the item; its codes are on the codes sheet.",
    # the rating
    "code": "Level code given (see the codes sheet); NE = not evaluable; empty = fractional mean or unscored.",
    "value": ("Number the code contributes to sums (the scale's declared value); a fractional consensus mean "
              "such as 2.5 is kept; empty when not evaluable, unscored, or nominal."),
    "not_evaluable": "1 when the item was not evaluable (code NE), else 0. Not evaluable is never a 0 score.",
    "status": "level, not_evaluable, mean (fractional consensus mean, no code) or unscored.",
    # derived scores
    "score": "Name of the derived score declared by the protocol.",
    "label": "Human-readable label.",
    "function": "How the score is computed: sum, percent_positive, percent_of_max, count_positive, any_positive.",
    "n_evaluated": "Items of the score that were evaluated (not evaluable and unscored items excluded).",
    "n_items": "Items the score covers.",
    "minimum": "Lowest possible value with every item evaluated.",
    "maximum": "Highest possible value with every item evaluated (e.g. T1-LB 312; percentages 100).",
    "threshold": "A value at or above it counts as positive (percent and count scores).",
    "items": "Item keys the score covers.",
    # agreement
    "n": "Item × exam pairs compared (both readers gave a level).",
    "n_not_evaluable": "Pairs excluded because a reader said not evaluable.",
    "percent_agreement": "Exact agreement over the compared pairs, in percent.",
    "kappa": "Cohen's kappa; empty when undefined (see reason).",
    "ci_low": "Lower bound of the 95% confidence interval of kappa.",
    "ci_high": "Upper bound of the 95% confidence interval of kappa.",
    "weighted_kappa": "Linearly weighted kappa (ordinal scales only).",
    "weighted_ci_low": "Lower bound of the 95% confidence interval of the weighted kappa.",
    "weighted_ci_high": "Upper bound of the 95% confidence interval of the weighted kappa.",
    "reason": "Why a statistic is undefined, if it is.",
    # codes and items sheets
    "scale_title": "Title of the scale.",
    "kind": "ordinal, binary or nominal.",
    "definition": "The level's full definition, from the paper that introduced the scale.",
    "redcap_raw": "Raw value of the level in the REDCap radio field (NE is 99).",
    "wide_column": "Column of the item in the wide CSV (SPSS-legal name).",
    "redcap_field": "Variable name of the item in the REDCap data dictionary.",
    # dictionary sheet
    "sheet": "Sheet the column is on (a row with an empty column describes the sheet).",
    "column": "Column name.",
    "description": "What the column holds.",
    # about sheet
    "property": "Property of the export.",
    "content": "Its content.",
}

