from careplan import access


def test_the_fixed_cast_reaches_the_patient_as_designed(cast):
    assert access.reach(cast.patient_user, cast.patient).is_self
    nurse = access.reach(cast.nurse, cast.patient)
    assert nurse.allowed and nurse.acting_unit_id == cast.unit.pk
    assert not access.reach(cast.other_nurse, cast.patient).allowed
    relative = access.reach(cast.relative, cast.patient)
    assert relative.allowed and not relative.write
    assert not access.reach(cast.stranger_relative, cast.patient).allowed
