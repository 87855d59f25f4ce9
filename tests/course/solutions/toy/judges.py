"""Judges of the toy assignment: trusted code, run outside the sandbox."""


def within_a_tenth(student, reference, context):
    error = abs(float(student) - float(reference))
    return (1.0, "") if error <= 0.1 else (0.0, "more than 0.1 away")
