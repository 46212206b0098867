"""Progress bar format (Keras 3 style) and what fit prints per verbose level."""

import re

import numpy as np
from conftest import ToyDense

from aenn.models import Input, Sequential
from aenn.utils import progbar as pb
from aenn.utils.progbar import Progbar, format_eta, format_per_unit, format_value

LINE = re.compile(r"^ ?\d+/\d+ ━{20} \d+s \d+(us|ms|s)/step( - [a-z_]+: [0-9.e+-]+)*$")


def test_value_and_time_formats():
    assert format_value(0.09501) == "0.0950"
    assert format_value(0.0) == "0.0000e+00"
    assert format_value(0.0005) == "5.0000e-04"
    assert format_eta(45) == "45s" and format_eta(65) == "1:05" and format_eta(3723) == "1:02:03"
    assert format_per_unit(0.006) == "6ms/step"
    assert format_per_unit(0.0004) == "400us/step"
    assert format_per_unit(2.0) == "2s/step"


def test_final_line_non_interactive(capsys, monkeypatch):
    monkeypatch.setenv("AENN_PROGBAR_INTERACTIVE", "0")
    bar = Progbar(469, stateful_metrics=True)
    for i in range(1, 469):
        bar.update(i, [("accuracy", 0.5), ("loss", 0.2)])
    assert capsys.readouterr().out == ""  # nothing while running in logs
    bar.update(469, [("accuracy", 0.9712), ("loss", 0.0950)], finalize=True)
    out = capsys.readouterr().out
    assert out.endswith("\n") and out.count("\n") == 1
    line = out.rstrip("\n")
    assert line.startswith("469/469 ━━━━━━━━━━━━━━━━━━━━ ")
    assert line.endswith(" - accuracy: 0.9712 - loss: 0.0950")
    assert LINE.match(line), line


def test_interactive_redraws_in_place(capsys, monkeypatch):
    monkeypatch.setenv("AENN_PROGBAR_INTERACTIVE", "1")
    bar = Progbar(10, stateful_metrics=True, interval=0.0)
    bar.update(1, [("loss", 1.0)])
    bar.update(5, [("loss", 0.5)])
    bar.update(10, [("loss", 0.25)], finalize=True)
    out = capsys.readouterr().out
    assert out.count("\r") == 3 and out.endswith("\n")
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert " 5/10 ━━━━━━━━━━━━━━━━━━━━" in plain  # counter right-aligned
    last = plain.split("\r")[-1].rstrip("\n").rstrip()
    assert last.startswith("10/10 ━") and last.endswith("- loss: 0.2500")


def test_keras_averaging_for_non_stateful_values(capsys, monkeypatch):
    monkeypatch.setenv("AENN_PROGBAR_INTERACTIVE", "0")
    bar = Progbar(2)
    bar.update(1, [("loss", 1.0)])
    bar.update(2, [("loss", 3.0)])
    assert capsys.readouterr().out.rstrip().endswith("loss: 2.0000")


def test_verbose2_one_line(capsys):
    bar = Progbar(3, verbose=2, stateful_metrics=True)
    bar.update(1, [("loss", 1.0)])
    bar.update(3, [("loss", 0.0921)])
    out = capsys.readouterr().out
    assert re.match(r"^3/3 - \d+s - \d+(us|ms|s)/step - loss: 0.0921\n$", out), out


def _model():
    m = Sequential([Input(shape=(4,)), ToyDense(4)])
    m.compile(optimizer="adam", loss="mse")
    return m


def test_fit_output_per_verbose(capsys, monkeypatch):
    monkeypatch.setenv("AENN_PROGBAR_INTERACTIVE", "0")
    x = np.random.default_rng(0).random((10, 4)).astype(np.float32)
    m = _model()
    m.fit(x, x, epochs=2, batch_size=4, validation_data=(x, x), verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert re.match(r"^3/3 ━{20} \d+s \d+(us|ms)/step - loss: \S+ - val_loss: \S+$", lines[1])
    m.fit(x, x, epochs=1, batch_size=4, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and re.match(r"^3/3 - \d+s - \d+(us|ms)/step - loss: \S+$", lines[0])
    m.fit(x, x, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    m.evaluate(x, x, verbose=1)
    out = capsys.readouterr().out
    assert re.match(r"^1/1 ━{20} \d+s \d+(us|ms)/step - loss: \S+\n$", out), out
    m.predict(x, verbose=1)
    assert re.match(r"^1/1 ━{20} \d+s \d+(us|ms)/step\n$", capsys.readouterr().out)


def test_auto_detect_non_tty(monkeypatch):
    monkeypatch.delenv("AENN_PROGBAR_INTERACTIVE", raising=False)
    assert pb._is_interactive() in (True, False)
