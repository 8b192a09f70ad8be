"""overparam.prose: powers of ten for the lessons' prose (Chapters 4-5)."""

import math

import pytest

from overparam.prose import tex10


@pytest.mark.parametrize("value, digits, text", [
    (3.7e16, 2, r"$3.7 \cdot 10^{16}$"),
    (5.33e-6, 2, r"$5.3 \cdot 10^{-6}$"),
    (9.97e5, 2, r"$1.0 \cdot 10^{6}$"),          # the mantissa rounds up into the next power
    (6.4e4, 1, r"$6 \cdot 10^{4}$"),
    (9.158e-5, 3, r"$9.16 \cdot 10^{-5}$"),
])
def test_tex10_writes_a_times_ten_to_the_k(value, digits, text):
    assert tex10(value, digits).data == text


def test_tex10_reads_back_to_the_value_within_its_digits():
    for value in (1.234e-9, 4.56e3, 7.0e27):
        mant, exp = tex10(value, 3).data.strip("$").split(r" \cdot 10^")
        back = float(mant) * 10 ** int(exp.strip("{}"))
        assert math.isclose(back, value, rel_tol=5e-3)


def test_tex10_rejects_zero_digits():
    with pytest.raises(ValueError):
        tex10(1.0, 0)
