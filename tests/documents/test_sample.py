"""documents.sample: the invented consents the benches and tests seal differ as families do."""
from __future__ import annotations

import pytest

from documents.sample import SAMPLE_SERVICES, family_context, sample_context


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_four_sample_families_have_their_own_services_and_people(lang: str) -> None:
    families = [sample_context(lang, family=number) for number in range(4)]
    assert [line.code for line in families[0].services] == list(SAMPLE_SERVICES)
    assert len({tuple(line.code for line in f.services) for f in families}) == 4
    assert len({f.patient_name for f in families}) == 4
    assert len({f.barthel_score for f in families}) == 4
    fifth, sixth = sample_context(lang, family=4), sample_context(lang, family=5)  # round again
    assert (fifth.patient_name, fifth.services) == (families[0].patient_name, families[0].services)
    assert (sixth.patient_name, sixth.services) == (families[1].patient_name, families[1].services)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_family_in_a_run_has_its_own_address_person_present_and_visit(lang: str) -> None:
    run = [family_context(lang, number, document_id=f"{number:032x}") for number in range(40)]
    assert len({c.patient_address for c in run}) == 40
    assert len({c.visit for c in run}) > 20
    assert len({c.present_name for c in run}) > 20
    assert [c.services for c in run[:4]] == [sample_context(lang, family=n).services
                                             for n in range(4)]
    assert run[7].document_id == f"{7:032x}"
