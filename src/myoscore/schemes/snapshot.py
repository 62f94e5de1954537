"""A protocol as canonical JSON: what a read stores, and what its hash is taken over."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from myoscore.domain import ConsensusMethod
from myoscore.schemes.model import (
    AtlasUnit,
    DerivedFunction,
    DerivedScore,
    Item,
    Level,
    MeasurePolicy,
    ProgressionScope,
    Protocol,
    Scale,
    ScaleKind,
    UnitLevel,
)


def _level_dict(level: Level) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": level.code, "label": level.label, "definition": level.definition,
                             "value": level.value}
    if level.description:
        entry["description"] = level.description
    if level.images:
        entry["images"] = list(level.images)
    return entry


def protocol_to_dict(protocol: Protocol) -> dict[str, Any]:
    """Everything that determines how a read is scored, resolved (no file references)."""
    return {
        "name": protocol.name,
        "version": protocol.version,
        "title": protocol.title,
        "source": protocol.source,
        "atlas": protocol.atlas,
        "scales": {
            name: {
                "kind": scale.kind.value,
                "title": scale.title,
                "source": scale.source,
                "levels": [_level_dict(lv) for lv in scale.levels],
                # Only when present, so protocols without scale cards keep their hashes.
                **({"description_source": scale.description_source} if scale.description_source else {}),
            }
            for name, scale in sorted(protocol.scales.items())
        },
        "items": [
            {
                "key": it.key, "measure": it.measure, "label": it.label, "indicator": it.indicator,
                "scale": it.scale, "sequence": it.sequence, "side": it.side,
                "unit": {
                    "key": it.unit.key, "name": it.unit.name, "level": it.unit.level.value,
                    "region": it.unit.region, "compartment": it.unit.compartment, "body": it.unit.body,
                },
            }
            for it in protocol.items
        ],
        "derived": [
            {"name": d.name, "label": d.label, "function": d.function.value,
             "items": list(d.item_keys), "threshold": d.threshold}
            for d in protocol.derived
        ],
        # How consensus is reached and what the longitudinal analysis covers are part of the
        # method (they change the numbers), so they are part of the hash.
        "policies": [{"measure": p.measure, "method": p.method.value, "quote": p.quote} for p in protocol.policies],
        "progression": None if protocol.progression is None else {
            "stir": protocol.progression.stir_measure, "t1": protocol.progression.t1_measure,
            "regions": list(protocol.progression.regions), "stir_threshold": protocol.progression.stir_threshold,
            "t1_step": protocol.progression.t1_step, "quote": protocol.progression.quote,
        },
        "min_pairs": protocol.min_pairs,
        # Only when set, so protocols without the option keep their hashes.
        **({"prefill_not_imaged": True} if protocol.prefill_not_imaged else {}),
    }


def protocol_hash(protocol: Protocol) -> str:
    canonical = json.dumps(protocol_to_dict(protocol), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def protocol_to_json(protocol: Protocol) -> str:
    return json.dumps(protocol_to_dict(protocol), sort_keys=True, separators=(",", ":"))


def protocol_from_json(text: str) -> Protocol:
    """Rebuild a protocol stored with a read; its hash is recomputed, not trusted."""
    data = json.loads(text)
    scales = {
        name: Scale(
            name, ScaleKind(s["kind"]), s["title"], s["source"],
            tuple(Level(lv["code"], lv["label"], lv["definition"], lv["value"], lv.get("description", ""),
                        tuple(lv.get("images", ()))) for lv in s["levels"]),
            s.get("description_source", ""),
        )
        for name, s in data["scales"].items()
    }
    items = tuple(
        Item(
            it["key"], it["measure"], it["label"], it["indicator"], it["scale"], it["sequence"],
            AtlasUnit(
                it["unit"]["key"], it["unit"]["name"], UnitLevel(it["unit"]["level"]),
                it["unit"]["region"], it["unit"]["compartment"], it["unit"]["body"],
            ),
            it["side"],
        )
        for it in data["items"]
    )
    derived = tuple(
        DerivedScore(d["name"], d["label"], DerivedFunction(d["function"]), tuple(d["items"]), d["threshold"])
        for d in data["derived"]
    )
    # Snapshots written before policies and scopes were protocol data have none: every
    # measure is then reconciled at joint review, and progression covers every region.
    policies = tuple(MeasurePolicy(p["measure"], ConsensusMethod(p["method"]), p.get("quote", ""))
                     for p in data.get("policies", []))
    found = data.get("progression")
    progression = None if found is None else ProgressionScope(
        found["stir"], found["t1"], tuple(found["regions"]), found["stir_threshold"], found["t1_step"],
        found.get("quote", ""))
    protocol = Protocol(
        data["name"], data["version"], data["title"], data["source"], data["atlas"], scales, items, derived,
        policies=policies, progression=progression, min_pairs=int(data.get("min_pairs", 10)),
        prefill_not_imaged=bool(data.get("prefill_not_imaged", False)),
    )
    from dataclasses import replace

    return replace(protocol, hash=protocol_hash(protocol))
