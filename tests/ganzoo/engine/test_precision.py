"""train.precision: bf16 autocast trains on the CPU without a GradScaler; fp16 (and its old
name train.amp) keeps one and needs CUDA; conflicting or unknown values are one-line errors."""

from __future__ import annotations

import json

import pytest
import torch

from ganzoo.cli import main
from ganzoo.config import load_config, precision_of
from ganzoo.engine.factories import autocast_dtype, build_scaler
from ganzoo.errors import ConfigError
from ganzoo.runs import list_checkpoints, load_checkpoint


def _losses(run_root):
    (run_dir,) = [p for p in run_root.iterdir()]
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return run_dir, [v for r in map(json.loads, lines) for v in (r["loss_d"], r["loss_g"])]


def test_bf16_trains_a_tiny_run_on_the_cpu(tmp_path, tiny_config):
    """bf16 on the CPU: finite losses, different from fp32's (autocast really ran), and no
    GradScaler state in the checkpoint."""
    config = tiny_config()
    for precision in ("fp32", "bf16"):
        args = ["train", str(config), f"train.precision={precision}", "train.device=cpu"]
        assert main([*args, "--out", str(tmp_path / precision)]) == 0
    _, fp32 = _losses(tmp_path / "fp32" / "tiny")
    run_dir, bf16 = _losses(tmp_path / "bf16" / "tiny")
    assert len(bf16) == 12 and bool(torch.isfinite(torch.tensor(bf16)).all())
    assert bf16 != fp32
    assert bf16 == pytest.approx(fp32, abs=0.1)  # the same run, at bf16's precision
    checkpoint = load_checkpoint(list_checkpoints(run_dir)[-1])
    assert "scaler" not in checkpoint


def test_the_discriminator_computes_in_bfloat16_under_bf16(tiny_config):
    """The dtype the step's autocast gives D's convolutions: bfloat16 for bf16, none for fp32."""
    from ganzoo.architectures import get_architecture

    seen = []
    for precision in ("fp32", "bf16"):
        config = load_config(tiny_config(), [f"train.precision={precision}"])
        arch = get_architecture("dcgan")
        d = arch.discriminator(data_shape=(1, 28, 28), width=8)
        conv = next(m for m in d.modules() if isinstance(m, torch.nn.Conv2d))
        conv.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
        dtype = autocast_dtype(config)
        with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
            d(torch.randn(2, 1, 28, 28))
    assert seen == [torch.float32, torch.bfloat16]


def test_train_amp_is_the_old_name_of_fp16():
    """train.amp=true resolves to fp16 (with a GradScaler); train.precision=fp16 alike."""
    old = load_config(None, ["train.amp=true"])
    new = load_config(None, ["train.precision=fp16"])
    assert precision_of(old.train) == precision_of(new.train) == "fp16"
    assert autocast_dtype(old) is torch.float16
    assert isinstance(build_scaler(new, torch.device("cpu")), torch.amp.GradScaler)
    assert build_scaler(load_config(None, ["train.precision=bf16"]), torch.device("cpu")) is None


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (["train.precision=fp8"], ["train.precision", "fp32, bf16, fp16", "fp8"]),
        (["train.amp=true", "train.precision=bf16"], ["train.amp", "train.precision=fp16"]),
        (["train.compile=fast"], ["train.compile", "max-autotune", "fast"]),
    ],
)
def test_bad_precision_or_compile_values_are_one_line_errors(overrides, words):
    """Unknown precisions and modes, and train.amp with bf16, name the key and the choices."""
    with pytest.raises(ConfigError) as caught:
        load_config(None, overrides)
    message = str(caught.value)
    assert "\n" not in message and all(word in message for word in words), message


def test_fp16_on_the_cpu_is_refused_naming_the_new_key(tmp_path, tiny_config, capsys):
    """train.precision=fp16 without CUDA: one line pointing at bf16/fp32; no run directory."""
    out = tmp_path / "runs"
    args = ["train", str(tiny_config()), "train.precision=fp16", "train.device=cpu"]
    assert main([*args, "--out", str(out)]) != 0
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "train.precision=fp16" in err and "bf16" in err and "CUDA" in err
    assert not out.exists() or not any(out.rglob("*.pt"))


def test_tf32_is_a_choice_applied_on_cuda_only():
    """train.tf32 sets float32 matmul precision and cuDNN's TF32 for a CUDA device (flags
    only: no GPU needed) and leaves them alone for the CPU."""
    from ganzoo.engine.factories import set_tf32

    saved = torch.get_float32_matmul_precision(), torch.backends.cudnn.allow_tf32
    try:
        set_tf32(load_config(None, ["train.tf32=false"]), torch.device("cuda"))
        assert torch.get_float32_matmul_precision() == "highest"
        assert torch.backends.cudnn.allow_tf32 is False
        set_tf32(load_config(None, ["train.tf32=true"]), torch.device("cpu"))
        assert torch.get_float32_matmul_precision() == "highest"  # the CPU changes nothing
        set_tf32(load_config(None, ["train.tf32=true"]), torch.device("cuda"))
        assert torch.get_float32_matmul_precision() == "high"
        assert torch.backends.cudnn.allow_tf32 is True
    finally:
        torch.set_float32_matmul_precision(saved[0])
        torch.backends.cudnn.allow_tf32 = saved[1]
