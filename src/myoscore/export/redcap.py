"""REDCap: an import CSV and the matching data dictionary (see ``docs/export.md``).

Design (the REDCap project is *classic*, not longitudinal, with one repeating instrument):

* record = subject: ``record_id`` is the pseudonymous code, on the non-repeating form
  ``subject`` (with ``group`` when the study has groups);
* one instance of the repeating form ``mri_scores`` per exam, ``redcap_repeat_instance``
  = the exam's order (1 = baseline), so no event has to be defined in advance;
* one source per export (default consensus; ``score_source`` says which).

Item fields are ``radio`` fields whose raw values are integers (:func:`redcap_codes`):
the level's declared number when every level of the scale has a distinct integer number
in 0–98 (so ``2a`` → 2, ``2b`` → 3 in the modified Mercuri scale), otherwise the level's
position 0, 1, 2, … (nominal scales such as the edema pattern). A fractional consensus
mean (2.5) is no level: when the exported source holds one, the numeric items become
``text`` fields with ``number`` validation and the scale's range (``numeric="number"``;
``numeric="radio"`` refuses).

**Not evaluable** is written :data:`NE_MISSING_CODE` (``NE``) in every field, radio or
number: a REDCap *Missing Data Code*, declared once in the project (Project Setup →
Additional customizations → Missing Data Codes: ``NE, Not evaluable``). REDCap then shows
it as missing and leaves it out of ``sum()`` and every calculation; it is never a choice
with a number (a raw 99 would be added in by a REDCap ``sum()``).

Each derived score has its value, ``<score>_n`` (items evaluated) and ``<score>_cmpl``
(yes/no: every item evaluated). The ``subject`` form carries each score's Δ first → last
(``<score>_d``, ``<score>_dpct``) for subjects with two exams or more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from myoscore.domain import NOT_EVALUABLE, MyoscoreError
from myoscore.export._common import number_text, short_hash, target_dir, write_csv
from myoscore.export.dataset import CONSENSUS, ExportDataset
from myoscore.schemes import Item, Protocol, Scale, ScaleKind
from myoscore.scores import ScoreChange, compute_score, longitudinal

#: The data dictionary's columns, exactly as REDCap writes and reads them.
REDCAP_DICTIONARY_HEADER = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
SUBJECT_FORM = "subject"
SCORES_FORM = "mri_scores"
REPEAT_COLUMNS = ("redcap_repeat_instrument", "redcap_repeat_instance")
#: What a not evaluable item holds in the import file: a REDCap Missing Data Code, never a
#: number (declare ``NE, Not evaluable`` under the project's Missing Data Codes).
NE_MISSING_CODE = NOT_EVALUABLE
#: REDCap's recommended maximum length of a variable name.
REDCAP_MAX = 26
_RESERVED = frozenset({
    "record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
    "redcap_data_access_group", "redcap_survey_identifier", "event", "arm", "page", "calendar", "action",
    "pid", "id", "record", "new", "return", "class", "case", "switch", "document", "window", "submit",
})


# -- names -----------------------------------------------------------------------------------
def redcap_name(words_of: str, taken: set[str], key: str | None = None) -> str:
    """A REDCap variable name from the words of ``words_of``: lowercase letters, digits and
    single underscores, starting with a letter, at most 26 characters, unique among
    ``taken`` (which is updated).

    The words are joined with ``_`` (a word repeated from an earlier segment is dropped:
    ``t1.thoracic_paraspinal.L`` → ``t1_thoracic_paraspinal_l``); while the name is too long
    its longest word loses its last letter (never below 3); a name still too long,
    reserved, or already taken ends in ``_`` + 4 hex digits of the SHA-1 of ``key``
    (default ``words_of``). The result depends only on its arguments.
    """
    key = words_of if key is None else key
    words: list[str] = []
    for word in re.split(r"[^a-z0-9]+", words_of.lower()):
        if word and word not in words:
            words.append(word)
    if not words or not words[0][0].isalpha():
        words.insert(0, "f")
    while len("_".join(words)) > REDCAP_MAX:
        longest = max(range(len(words)), key=lambda i: (len(words[i]), -i))
        if len(words[longest]) <= 3:
            break
        words[longest] = words[longest][:-1]
    name = "_".join(words)
    if (len(name) > REDCAP_MAX or name in taken or name in _RESERVED or name.startswith("redcap_")
            or name.endswith("_complete")):
        stem = name[: REDCAP_MAX - 5].rstrip("_")
        salt = 0
        name = f"{stem}_{short_hash(key)}"
        while name in taken:
            salt += 1
            name = f"{stem}_{short_hash(f'{key}#{salt}')}"
    taken.add(name)
    return name


def redcap_item_names(protocol: Protocol, taken: set[str] | None = None) -> dict[str, str]:
    """``item key → REDCap variable name`` for every item, in protocol order.

    Each name is the measure, a part of the atlas unit and the side; the part is the same
    for the whole protocol, the shortest that tells every item apart: the unit's last
    segment (``stir.pelvis.iliopsoas.psoas.R`` → ``stir_psoas_r``), else region + last
    segment (``edema.thigh.anterior.R`` → ``edema_thigh_anterior_r``), else the whole
    unit key; then :func:`redcap_name` shortens and de-duplicates.
    """
    taken = set() if taken is None else taken

    def candidate(item: Item, depth: int) -> str:
        parts = item.unit.key.split(".")
        unit = [parts[-1]] if depth == 0 else [parts[0], parts[-1]] if depth == 1 else parts
        return ".".join([item.measure, *unit, *([item.side] if item.side else [])])

    depth = next((d for d in range(2) if len({candidate(item, d) for item in protocol.items}) == len(protocol.items)),
                 2)
    names = {}
    for item in protocol.items:
        names[item.key] = redcap_name(candidate(item, depth), taken, item.key)
    return names


def redcap_codes(scale: Scale) -> tuple[dict[str, int], str]:
    """``level code → raw value`` of a radio field, and what not evaluable is written.

    The raw value is the level's declared number when every level has a distinct integer
    number in 0–98 (sums and statistics on REDCap's raw export stay right, and ``2a``/``2b``
    get their declared 2/3), else the level's position (0, 1, 2, …). Not evaluable is the
    Missing Data Code :data:`NE_MISSING_CODE`, never a choice.
    """
    values = [lv.value for lv in scale.levels]
    numeric = (all(v is not None and float(v).is_integer() and 0 <= v <= 98 for v in values)
               and len(set(values)) == len(values))
    codes = {lv.code: int(lv.value) if numeric and lv.value is not None else i
             for i, lv in enumerate(scale.levels)}
    return codes, NE_MISSING_CODE


def redcap_choices(scale: Scale) -> str:
    """The choices cell of a radio field: ``"0, Absent | 1, Mild …"`` (not evaluable is the
    project's Missing Data Code ``NE``, not a choice)."""
    codes, _ = redcap_codes(scale)
    parts = []
    for level in scale.levels:
        # Say the level's code when the raw value is not the code and the label does not say it.
        plain = str(codes[level.code]) == level.code or level.label.lower() == level.code.lower()
        label = level.label if plain else f"{level.code}: {level.label}"
        parts.append(f"{codes[level.code]}, {label.replace('|', '/')}")
    return " | ".join(parts)


# -- the dictionary ------------------------------------------------------------------------------
def _field(name: str, form: str, kind: str, label: str, *, section: str = "", choices: str = "",
           note: str = "", validation: str = "", minimum: str = "", maximum: str = "",
           annotation: str = "") -> list[str]:
    return [name, form, section, kind, label, choices, note, validation, minimum, maximum, "", "", "", "", "", "",
            "", annotation]


class RedcapLayout:
    """Field names and the dictionary of one protocol and dataset (built by :func:`redcap_layout`)."""

    def __init__(self, dataset: ExportDataset, numeric: str) -> None:
        protocol = dataset.protocol
        self.numeric = numeric
        self.has_groups = dataset.groups is not None
        self.has_months = any(exam.months_from_onset is not None for exam in dataset.exams)
        self.has_treated = any(exam.treated is not None for exam in dataset.exams)
        self.subject_fields = ["record_id", *(["group"] if self.has_groups else [])]
        self.exam_fields = ["exam_label", "exam_order", *(["months_from_onset"] if self.has_months else []),
                            *(["treated"] if self.has_treated else []), "score_source"]
        taken = set(self.subject_fields) | set(self.exam_fields) | {f"{SUBJECT_FORM}_complete",
                                                                    f"{SCORES_FORM}_complete"}
        self.items: dict[str, str] = redcap_item_names(protocol, taken)
        self.scores: dict[str, tuple[str, str, str]] = {}
        for score in protocol.derived:
            value = redcap_name(score.name, taken)
            self.scores[score.name] = (value, redcap_name(f"{score.name}_n", taken),
                                       redcap_name(f"{score.name}_cmpl", taken))
        self.changes: dict[str, tuple[str, str]] = {}
        if any(exam.order > 1 for exam in dataset.exams):
            for score in protocol.derived:
                self.changes[score.name] = (redcap_name(f"{score.name}_d", taken),
                                            redcap_name(f"{score.name}_dpct", taken))
        self.protocol = protocol

    def uses_radio(self, item: Item) -> bool:
        return self.numeric == "radio" or self.protocol.scales[item.scale].kind is ScaleKind.NOMINAL

    @property
    def import_header(self) -> list[str]:
        return ["record_id", *REPEAT_COLUMNS, *self.subject_fields[1:],
                *(name for pair in self.changes.values() for name in pair), *self.exam_fields,
                *self.items.values(), *(name for names in self.scores.values() for name in names)]

    @property
    def has_subject_rows(self) -> bool:
        return self.has_groups or bool(self.changes)

    def dictionary(self) -> list[list[str]]:
        protocol = self.protocol
        rows = [_field("record_id", SUBJECT_FORM, "text", "Subject (pseudonymous code)",
                       note="The study's pseudonymous subject code; never a name or a PatientID.")]
        if self.has_groups:
            rows.append(_field("group", SUBJECT_FORM, "text", "Group"))
        for score in protocol.derived if self.changes else ():
            delta, relative = self.changes[score.name]
            rows.append(_field(delta, SUBJECT_FORM, "text", f"Δ first → last exam: {score.label}",
                               validation="number", note="last − first, in the score's unit",
                               annotation=f"myoscore delta {score.name}"))
            rows.append(_field(relative, SUBJECT_FORM, "text", f"Δ % first → last exam: {score.label}",
                               validation="number", note="(last − first) / first × 100; empty when first is 0"))
        rows.append(_field("exam_label", SCORES_FORM, "text", "Timepoint",
                           section=f"Exam ({protocol.title})",
                           annotation=f"myoscore protocol {protocol.name} {protocol.version} {protocol.hash}"))
        rows.append(_field("exam_order", SCORES_FORM, "text", "Exam order (1 = first exam of the subject)",
                           validation="integer", minimum="1"))
        if self.has_months:
            rows.append(_field("months_from_onset", SCORES_FORM, "text", "Months from disease onset",
                               validation="number"))
        if self.has_treated:
            rows.append(_field("treated", SCORES_FORM, "yesno", "Treated at the time of the exam"))
        rows.append(_field("score_source", SCORES_FORM, "text", "Source of the scores",
                           note="consensus, or reader:<name> for one reader's read"))
        measure = None
        for item in protocol.items:
            scale = protocol.scales[item.scale]
            section = f"{item.label} ({item.sequence})" if item.measure != measure else ""
            measure = item.measure
            annotation = f"myoscore item {item.key}"
            if self.uses_radio(item):
                rows.append(_field(self.items[item.key], SCORES_FORM, "radio", item.title, section=section,
                                   choices=redcap_choices(scale),
                                   note=f"Scale {scale.name}; NE = not evaluable (Missing Data Code)",
                                   annotation=annotation))
            else:
                numbers = [lv.value for lv in scale.levels if lv.value is not None]
                levels = "; ".join(f"{number_text(lv.value)} = {lv.label}" for lv in scale.levels)
                rows.append(_field(
                    self.items[item.key], SCORES_FORM, "text", item.title, section=section,
                    note=f"{levels}; fractional values are consensus means; NE = not evaluable "
                         f"(Missing Data Code)",
                    validation="number", minimum=number_text(min(numbers)), maximum=number_text(max(numbers)),
                    annotation=annotation))
        first = True
        for score in protocol.derived:
            result = compute_score(protocol, score, {})
            value, count, complete = self.scores[score.name]
            rows.append(_field(value, SCORES_FORM, "text", score.label,
                               section="Derived scores" if first else "", validation="number",
                               minimum=number_text(result.minimum), maximum=number_text(result.maximum),
                               annotation=f"myoscore score {score.name}"))
            rows.append(_field(count, SCORES_FORM, "text", f"{score.label}: items evaluated",
                               validation="integer", minimum="0", maximum=str(len(score.item_keys))))
            rows.append(_field(complete, SCORES_FORM, "yesno", f"{score.label}: every item evaluated",
                               note="No: the score covers fewer items than its full range; do not compare it "
                                    "with complete ones"))
            first = False
        return rows


def redcap_layout(dataset: ExportDataset, source: str = CONSENSUS, numeric: str | None = None) -> RedcapLayout:
    """The field names and dictionary for ``dataset``'s ``source``.

    ``numeric`` is ``"radio"`` or ``"number"`` (see the module docstring); ``None`` picks
    ``"number"`` exactly when the source holds a fractional mean.
    """
    fractional = any(row.code is None and row.value is not None for row in dataset.ratings if row.source == source)
    if numeric is None:
        numeric = "number" if fractional else "radio"
    if numeric not in ("radio", "number"):
        raise ValueError(f"numeric must be 'radio' or 'number', not {numeric!r}")
    if numeric == "radio" and fractional:
        raise MyoscoreError(f"{source} holds fractional means (e.g. 2.5) that no radio choice can hold; "
                            "export the REDCap file with numeric='number'")
    return RedcapLayout(dataset, numeric)


def _item_cell(layout: RedcapLayout, item: Item, code: str | None, value: float | None) -> str:
    scale = layout.protocol.scales[item.scale]
    if code is None and value is None:
        return ""
    if code == NOT_EVALUABLE:
        return NE_MISSING_CODE
    if layout.uses_radio(item):
        raws, _ = redcap_codes(scale)
        return str(raws[code]) if code is not None else ""
    return number_text(value)


def redcap_rows(dataset: ExportDataset, layout: RedcapLayout, source: str) -> list[list[str]]:
    from myoscore.export.summaries import exam_values

    header = layout.import_header
    changes: dict[str, list[ScoreChange]] = {}
    for change in longitudinal(layout.protocol, exam_values(dataset, source)):
        changes.setdefault(change.subject, []).append(change)
    rows: list[list[str]] = []
    done: set[str] = set()
    for exam in dataset.exams_in_order:
        given = dataset.ratings_of(exam.exam_id, source)
        scores = dataset.derived_of(exam.exam_id, source)
        if not given and not scores:
            continue
        if layout.has_subject_rows and exam.subject not in done:
            done.add(exam.subject)
            subject = {"record_id": exam.subject, "group": dataset.group_of(exam.subject) or ""}
            for change in changes.get(exam.subject, ()):
                delta, relative = layout.changes[change.score]
                subject[delta], subject[relative] = number_text(change.delta), number_text(change.relative)
            rows.append([subject.get(column, "") for column in header])
        cells: dict[str, str] = {
            "record_id": exam.subject, "redcap_repeat_instrument": SCORES_FORM,
            "redcap_repeat_instance": str(exam.order), "exam_label": exam.label, "exam_order": str(exam.order),
            "months_from_onset": number_text(exam.months_from_onset),
            "treated": "" if exam.treated is None else str(int(exam.treated)), "score_source": source,
        }
        for item in layout.protocol.items:
            row = given.get(item.key)
            cells[layout.items[item.key]] = "" if row is None else _item_cell(layout, item, row.code, row.value)
        for name, (value, count, complete) in layout.scores.items():
            found = scores.get(name)
            cells[value] = "" if found is None else number_text(found.value)
            cells[count] = "" if found is None else str(found.n_evaluated)
            cells[complete] = "" if found is None or found.complete is None else str(int(found.complete))
        rows.append([cells.get(column, "") for column in header])
    return rows


def write_redcap(dataset: ExportDataset, path: str | Path, *, source: str = CONSENSUS,
                 numeric: str | None = None) -> list[Path]:
    """Write ``<protocol>_redcap_import.csv`` and ``<protocol>_redcap_dictionary.csv`` into
    the folder ``path`` and return ``[import file, dictionary file]``.

    ``source`` is the one source exported (``"consensus"`` or ``"reader:<name>"``);
    ``numeric`` chooses radio or number fields for ordinal and binary items (see the module
    docstring). Load the dictionary first (Project Setup → Data Dictionary), make
    ``mri_scores`` a repeating instrument, declare the Missing Data Code ``NE, Not
    evaluable`` (Additional customizations), then import the data with the Data Import Tool.
    """
    folder = target_dir(path)
    layout = redcap_layout(dataset, source, numeric)
    stem = dataset.protocol.name
    data = write_csv(folder / f"{stem}_redcap_import.csv", layout.import_header, redcap_rows(dataset, layout, source))
    dictionary = write_csv(folder / f"{stem}_redcap_dictionary.csv", REDCAP_DICTIONARY_HEADER, layout.dictionary())
    return [data, dictionary]


def choices_of(choices: str) -> Mapping[str, str]:
    """Parse a dictionary's choices cell (``"0, Absent | 1, Mild"``) into raw → label."""
    out = {}
    for part in choices.split("|"):
        raw, _, label = part.strip().partition(",")
        out[raw.strip()] = label.strip()
    return out
