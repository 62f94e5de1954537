"""Ids are typed at the boundary: every session method refuses a bad argument before any rule.

The property test throws str, float, bool, negative, zero, huge (±2**63) and None ids — and
non-text item keys and names — at every public method of the reader session, the
coordinator session and the reading session, and expects the one refusal
(:class:`InvalidArgument`, naming the parameter) and no change to the database.
"""

from __future__ import annotations

import inspect
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myoscore.app import CoordinatorSession, ReaderSession, sign_in
from myoscore.app.reading_session import ReadingSession
from myoscore.domain import AccessDenied, Role, Sequence
from myoscore.domain.boundary import InvalidArgument

BAD_SCALARS = st.one_of(
    st.text(max_size=5), st.from_regex(r"\A[0-9]{1,3}\Z"), st.floats(allow_nan=True), st.booleans(),
    st.integers(max_value=0), st.integers(min_value=2**31), st.sampled_from([2**63, -(2**63), 2**63 - 1]),
    st.just(b"1"),
)
BAD_IDS = st.one_of(BAD_SCALARS, st.lists(st.integers(min_value=1, max_value=3), max_size=2))
BAD_ID_LISTS = st.one_of(BAD_SCALARS, st.lists(BAD_SCALARS, min_size=1, max_size=2))
BAD_TEXT = st.one_of(st.integers(), st.floats(), st.booleans(), st.just(b"edema"), st.lists(st.text(), max_size=1))


def _good(name: str, parameter: inspect.Parameter, nxp2) -> object:
    """A valid value for every parameter but the one under test."""
    if parameter.default is not inspect.Parameter.empty:
        return parameter.default
    if name.endswith("_ids") or name == "reader_names":
        return [1] if name.endswith("_ids") else ["A"]
    if name.endswith("_id") or name in ("position", "limit"):
        return 1
    values = {"protocol": nxp2, "role": Role.READER, "kind": Sequence.STIR, "fraction": 0.5,
              "washout_days": 1.0, "exam_date": date(2024, 1, 1)}
    return values.get(name, "x")


def _targets(session_types):
    for cls in session_types:
        for name, member in vars(cls).items():
            if name.startswith("_") or not inspect.isfunction(member):
                continue
            parameters = dict(inspect.signature(member).parameters)
            parameters.pop("self")
            for pname, parameter in parameters.items():
                annotation = str(parameter.annotation)
                if pname.endswith(("_id", "_ids")) and "int" in annotation:
                    yield cls, name, pname, "id", "None" in annotation
                elif annotation in ("str", "str | None"):
                    yield cls, name, pname, "text", "None" in annotation


TARGETS = list(_targets([ReaderSession, CoordinatorSession, ReadingSession]))


def test_every_public_method_is_checked() -> None:
    """The decorator covers each session class, and the property test reaches every id parameter."""
    for cls in (ReaderSession, CoordinatorSession, ReadingSession):
        for name, member in vars(cls).items():
            if not name.startswith("_") and inspect.isfunction(member):
                parameters = set(inspect.signature(member).parameters) - {"self"}
                if parameters:
                    assert getattr(member, "__checked_arguments__", False), f"{cls.__name__}.{name}"
    reached = {(cls.__name__, method) for cls, method, _, kind, _ in TARGETS if kind == "id"}
    assert {("ReaderSession", m) for m in ("read", "exam", "series", "protocol", "ratings", "rate", "clear",
                                           "submit")} <= reached
    assert {("CoordinatorSession", m) for m in ("read_ratings", "reopen", "protocol_of", "update_exam")} <= reached


@pytest.mark.parametrize(("cls", "method", "parameter", "kind", "optional"), TARGETS,
                         ids=[f"{t[0].__name__}.{t[1]}.{t[2]}" for t in TARGETS])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_bad_arguments_are_refused_before_any_rule(db, study, nxp2, cls, method, parameter, kind, optional,
                                                   data) -> None:
    """A bad id or key is refused with InvalidArgument naming the parameter; nothing is written."""
    target: ReaderSession | CoordinatorSession | ReadingSession
    if cls is ReaderSession:
        target = sign_in(db, "A", "pass-phrase-A")
    elif cls is CoordinatorSession:
        target = study
    else:
        reader = sign_in(db, "A", "pass-phrase-A")
        assert isinstance(reader, ReaderSession)
        target = ReadingSession(reader, reader.worklist()[0].id)
    strategy = (BAD_ID_LISTS if parameter.endswith("_ids") else BAD_IDS) if kind == "id" else BAD_TEXT
    if not optional:
        strategy = st.one_of(strategy, st.none())
    bad = data.draw(strategy)
    function = getattr(type(target), method)
    signature = inspect.signature(function)
    arguments = {name: _good(name, p, nxp2) for name, p in signature.parameters.items() if name != "self"}
    arguments[parameter] = bad
    before = len(study.audit_log(10_000))
    with pytest.raises(InvalidArgument, match=parameter.removesuffix("s") if parameter.endswith("_ids") else parameter):
        getattr(target, method)(**arguments)
    assert len(study.audit_log(10_000)) == before


@given(bad=BAD_IDS)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_opening_a_reading_session_checks_the_id(db, study, bad) -> None:
    """ReadingSession(reader, "1") is refused like every other bad id."""
    reader = sign_in(db, "A", "pass-phrase-A")
    assert isinstance(reader, ReaderSession)
    with pytest.raises(InvalidArgument, match="read_id"):
        ReadingSession(reader, bad)


def test_string_id_cannot_walk_around_the_washout(db, study, nxp2) -> None:
    """Regression (issue 11): during a repeat's wash-out, ratings("1") is refused like ratings(1),
    and rate/submit("7") cannot act on the hidden repeat."""
    reader = sign_in(db, "A", "pass-phrase-A")
    assert isinstance(reader, ReaderSession)
    for read in reader.worklist():
        reader.rate(read.id, "edema.thigh.anterior.R", "2")
        reader.submit(read.id)
    (repeat,) = study.assign_repeats(nxp2, "A", fraction=0.5, washout_days=28, seed=3)
    first = next(r for r in study.reads() if r.reader_name == "A" and r.exam_id == repeat.exam_id and r.repeat == 0)
    with pytest.raises(AccessDenied):
        reader.ratings(first.id)
    key = "edema.thigh.anterior.R"
    # The ids as strings: deliberately the wrong type (the API takes int), hence the ignores.
    for call in (lambda: reader.ratings(str(first.id)), lambda: reader.read(str(first.id)),  # type: ignore[arg-type]
                 lambda: reader.series(str(first.id)), lambda: reader.exam(str(first.id)),  # type: ignore[arg-type]
                 lambda: reader.protocol(str(first.id)),  # type: ignore[arg-type]
                 lambda: reader.rate(str(repeat.id), key, "1"),  # type: ignore[arg-type]
                 lambda: reader.submit(str(repeat.id)), lambda: reader.clear(str(repeat.id), key),  # type: ignore[arg-type]
                 lambda: ReadingSession(reader, str(first.id))):  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match="read_id must be a whole number"):
            call()
    assert study.read_ratings(repeat.id) == {}
    assert next(r for r in study.reads() if r.id == repeat.id).status.value == "assigned"
