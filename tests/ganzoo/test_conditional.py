"""Labels end to end, proven with the conditional mlp on mnist5k: sample grids with one class
per row, labels in evaluation samples, and refusals before any work."""

from __future__ import annotations

import pytest
import torch
import yaml

import ganzoo
from ganzoo.architectures import get_architecture
from ganzoo.cli import main
from ganzoo.errors import ConfigError
from ganzoo.sampling import grid_inputs, make_sampler

CONDITIONAL = {
    "architecture": "mlp",
    "data": {"name": "mnist5k", "image_size": 28, "limit": 200},
    "train": {"batch_size": 20, "iterations": 3, "num_samples": 30, "progress": False},
    "generator": {"num_classes": 10, "latent_dim": 8, "hidden_dim": 16, "depth": 1},
    "discriminator": {"num_classes": 10, "hidden_dim": 16, "depth": 1},
}


def conditional_generator():
    arch = get_architecture("mlp")
    return arch.generator(data_shape=(1, 28, 28), latent_dim=8, num_classes=10, tanh_output=True)


def test_conditional_grid_has_one_class_per_row():
    """30 grid images of a 10-class generator: 10 rows of 3, row k all class k."""
    inputs, row_length = grid_inputs(conditional_generator(), 30, seed=1)
    assert row_length == 3
    assert torch.equal(inputs.y.reshape(10, 3), torch.arange(10).unsqueeze(1).expand(10, 3))


def test_evaluation_samples_of_a_conditional_generator_cover_the_classes():
    """make_sampler gives a conditional generator labels drawn uniformly (all 10 seen in 200)
    and is reproducible for a seed."""
    generator = conditional_generator()
    seen = []
    original = generator.forward
    generator.forward = lambda z, y=None: (seen.append(y), original(z, y))[1]
    images = make_sampler(generator, seed=4)(200)
    assert images.dtype == torch.uint8 and images.shape == (200, 1, 28, 28)
    assert set(torch.cat(seen).tolist()) == set(range(10))
    assert torch.equal(make_sampler(generator, seed=4)(200), images)


def test_conditional_mlp_trains_on_mnist5k_with_class_rows(tmp_path, capsys):
    """`ganzoo train` with the conditional mlp: runs, and its last grid is 10 rows tall."""
    from PIL import Image

    path = tmp_path / "cmlp.yaml"
    path.write_text(yaml.safe_dump(CONDITIONAL))
    assert ganzoo.train(path, out=tmp_path / "runs").status == "finished"
    (run_dir,) = (tmp_path / "runs" / "cmlp").iterdir()
    grid = Image.open(run_dir / "samples" / "iter_0000003.png")
    # make_grid: 2-pixel padding around 28-pixel cells -> 10 rows of 30 pixels plus 2.
    assert grid.size == (3 * 30 + 2, 10 * 30 + 2)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"generator.num_classes": 5, "discriminator.num_classes": 5}, "has 10 classes"),
        ({"discriminator.num_classes": 0}, "differ"),
    ],
)
def test_bad_conditional_configs_are_refused_before_any_work(tmp_path, capsys, changes, message):
    """Fewer classes than the data has, or a mismatch between the networks: one line, exit 2,
    no run directory."""
    path = tmp_path / "cmlp.yaml"
    path.write_text(yaml.safe_dump(CONDITIONAL))
    overrides = [f"{k}={v}" for k, v in changes.items()]
    out = tmp_path / "runs"
    assert main(["train", str(path), "--out", str(out), *overrides]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_unlabelled_data_is_refused_for_a_conditional_model(tmp_path, capsys):
    """An image folder without class sub-folders has no labels: refused before training, and
    the run directory is not left behind."""
    from PIL import Image

    folder = tmp_path / "flat"
    folder.mkdir()
    for i in range(24):
        Image.new("L", (28, 28), color=i * 10).save(folder / f"{i}.png")
    config = {
        **CONDITIONAL,
        "data": {"name": "image_folder", "root": str(folder), "image_size": 28},
    }
    path = tmp_path / "cmlp.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "runs"
    assert main(["train", str(path), "--out", str(out)]) == 2
    assert "unlabelled" in capsys.readouterr().err
    assert not any(out.rglob("*.jsonl"))


def test_num_classes_must_be_a_count():
    with pytest.raises(ConfigError, match="num_classes"):
        get_architecture("mlp").generator(data_shape=(2,), num_classes=-1)


def test_periodic_evaluation_of_a_conditional_run_scores_intra_class_fid(tmp_path, capsys):
    """eval.every on the conditional mlp: the engine passes the generated images' labels and
    the reference's labels, so the result holds intra-class FID (FID within each class)."""
    import json

    suite = tmp_path / "classes.yaml"
    suite.write_text(
        "metrics: [fid, intra_fid]\nnum_samples: 40\nreference_num_samples: 40\n"
        "kid_subset_size: 20\nbatch_size: 20\n"
    )
    config = {**CONDITIONAL, "eval": {"every": 3, "suite": str(suite)}}
    path = tmp_path / "cmlp.yaml"
    path.write_text(yaml.safe_dump(config))
    assert ganzoo.train(path, out=tmp_path / "runs").status == "finished"
    (run_dir,) = (tmp_path / "runs" / "cmlp").iterdir()
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    (result,) = [x["eval"] for x in lines if "eval" in x]
    assert result["intra_fid"] > 0 and result["fid"] > 0


def test_cgan_pd_resnet_trains_with_one_class_per_grid_row(tmp_path, capsys):
    """The conditional resnet (conditional batch norm in G, projection D) trains through the
    same step, and its grid is 10 class rows."""
    from PIL import Image

    config = {
        **CONDITIONAL,
        "architecture": "resnet",
        "train": {**CONDITIONAL["train"], "iterations": 2, "loss": "hinge"},
        "generator": {"num_classes": 10, "latent_dim": 8, "width": 8},
        "discriminator": {"num_classes": 10, "width": 8, "spectral_norm": True},
    }
    path = tmp_path / "cgan_pd.yaml"
    path.write_text(yaml.safe_dump(config))
    assert ganzoo.train(path, out=tmp_path / "runs").status == "finished"
    (run_dir,) = (tmp_path / "runs" / "cgan_pd").iterdir()
    grid = Image.open(run_dir / "samples" / "iter_0000002.png")
    assert grid.size == (3 * 30 + 2, 10 * 30 + 2)


def test_ganzoo_eval_of_a_conditional_run_scores_intra_class_fid(tmp_path, capsys):
    """`ganzoo eval RUN_DIR` on a conditional run passes the sampler's labels and the training
    reference's labels, so intra-class FID is scored."""
    import json

    suite = tmp_path / "classes.yaml"
    suite.write_text(
        "metrics: [intra_fid]\nnum_samples: 40\nreference_num_samples: 40\n"
        "kid_subset_size: 20\nbatch_size: 20\n"
    )
    path = tmp_path / "cmlp.yaml"
    path.write_text(
        yaml.safe_dump({**CONDITIONAL, "train": {**CONDITIONAL["train"], "iterations": 1}})
    )
    assert ganzoo.train(path, out=tmp_path / "runs").status == "finished"
    (run_dir,) = (tmp_path / "runs" / "cmlp").iterdir()
    out = tmp_path / "eval.json"
    assert main(["eval", str(run_dir), "--suite", str(suite), "--out", str(out)]) == 0
    assert json.loads(out.read_text())["intra_fid"] > 0
