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
    "n_items": "Items the score covers (units: item values possible, subjects × items).",
    "minimum": "Lowest possible value with every item evaluated.",
    "maximum": "Highest possible value with every item evaluated (e.g. T1-LB 312; percentages 100).",
    "threshold": "A value at or above it counts as positive (percent and count scores).",
    "items": "Item keys the score covers.",
    "regions": "Atlas regions the score or analysis covers (its scope, declared by the protocol).",
    "complete": ("1 when every item was evaluated, 0 when some were not evaluable or unscored: an incomplete sum "
                 "is not on the score's full range and must not be compared with complete ones."),
    # cross-subject tables
    "n_exams": "Exams of the subject.",
    "first_order": "exam_order of the subject's first exam.",
    "last_order": "exam_order of the subject's last exam.",
    "first": "The score at the subject's first exam.",
    "last": "The score at the subject's last exam.",
    "delta": "last − first, in the score's own unit (percentage points for STIR%, points for T1-LB).",
    "delta_percent": "(last − first) / first × 100; empty when first is 0 or missing.",
    "first_n_evaluated": "Items of the score evaluated at the first exam.",
    "last_n_evaluated": "Items of the score evaluated at the last exam.",
    "first_complete": "1 when every item of the score was evaluated at the first exam.",
    "last_complete": "1 when every item of the score was evaluated at the last exam.",
    "stir_measure": "Measure matched as STIR (positive at the first exam).",
    "t1_measure": "Measure matched as T1 (progression between first and last exam).",
    "n_subjects": "Subjects counted (progression: subjects with two exams or more).",
    "n_pairs": "(subject, unit, side) pairs with STIR evaluated at the first exam and T1 at both.",
    "n_excluded": "Pairs left out because STIR or T1 was not evaluated.",
    "stir_positive": "Pairs STIR-positive at the first exam (Fig. 4A denominator).",
    "stir_positive_progressed": "Of those, pairs whose T1 rose by at least the protocol's step (Fig. 4A numerator).",
    "percent_stir_positive_progressed": "100 × stir_positive_progressed / stir_positive.",
    "progressed": "Pairs whose T1 progressed (Fig. 4B denominator).",
    "progressed_not_stir_positive": "Of those, pairs not STIR-positive at the first exam (Fig. 4B numerator).",
    "percent_progressed_not_stir_positive": "100 × progressed_not_stir_positive / progressed.",
    "n_positive": "Subjects (frequencies) or item values (units) at or above the threshold.",
    "percent": "n_positive / n_evaluated × 100 (subjects).",
    "percent_positive": ("n_positive / n_evaluated × 100 over the item values: per-muscle STIR% (pooled: both sides "
                         "of every subject) and regional STIR%."),
    "total": "Sum of the evaluated values (per-muscle T1 sum across subjects).",
    "mean": "total / n_evaluated.",
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
    "redcap_raw": "Raw value of the level in the REDCap radio field (NE is the Missing Data Code NE, never a number).",
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

