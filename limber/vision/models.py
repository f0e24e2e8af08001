"""The two BlazePose model files: where they live, how they are fetched and checked, and the
landmark model as it is run (without the person mask Limber never reads).

They are not ours to ship (and never committed): `limber models` takes them out of the
`mediapipe==0.10.21` wheel on the package index and checks their SHA-256 before use, so a
truncated download or a different model can never be run by accident.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from limber.errors import UserError

__all__ = [
    "MODEL_FILES",
    "ModelPaths",
    "ensure_models",
    "extract_from_wheel",
    "landmark_model",
    "models_dir",
]

WHEEL = "mediapipe==0.10.21"

# name -> (path inside the wheel, sha256, size in bytes)
MODEL_FILES = {
    "pose_detection.tflite": (
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
        2_959_046,
    ),
    "pose_landmark_full.tflite": (
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
        6_440_512,
    ),
}
FIX = "run `limber models` to fetch them"
# The landmark model also paints a 256 x 256 mask of where the person is (this output), which
# Limber never reads: it is loaded without the operators only that mask needs. That was 40 % of
# the model's time a frame (5.5 -> 3.4 ms on 2 cores, bench/bench_vision.py); every other
# output is the same, bit for bit (tests/test_vision_engine.py).
SEGMENTATION_OUTPUT = b"Identity_2"


@dataclass(frozen=True)
class ModelPaths:
    detector: Path
    landmarks: Path


def models_dir(env: dict[str, str] | None = None) -> Path:
    """$LIMBER_MODELS_DIR, else `models` in Limber's data folder.

    The data folder is the one the rest of Limber uses ($LIMBER_DATA_DIR, else the per-user
    data folder), so `limber models` run from any folder fetches them once for that person;
    `make run` sets LIMBER_DATA_DIR to the checkout's ./var.
    """
    from limber.config import default_data_dir

    env = dict(os.environ if env is None else env)
    if env.get("LIMBER_MODELS_DIR"):
        return Path(env["LIMBER_MODELS_DIR"]).expanduser().resolve()
    return default_data_dir(env) / "models"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _problem(path: Path) -> str | None:
    """Why this model file cannot be used, or None when it is the right one."""
    _, digest, size = MODEL_FILES[path.name]
    if not path.is_file():
        return "is missing"
    if path.stat().st_size != size or _sha256(path) != digest:
        return "is damaged or not the expected model (its SHA-256 does not match)"
    return None


def landmark_model(path: Path) -> bytes:
    """The landmark model file's bytes without its segmentation mask (SEGMENTATION_OUTPUT).

    Read once per process for each file (a camera socket opens an engine of its own).
    """
    stat = path.stat()
    return _without_output(str(path), stat.st_size, stat.st_mtime_ns, SEGMENTATION_OUTPUT)


@functools.lru_cache(maxsize=2)
def _without_output(path: str, size: int, mtime_ns: int, name: bytes) -> bytes:
    """The model with one output and the operators only it needs taken out (size and mtime
    make a changed file read afresh). A file this cannot be done to is returned as it is: the
    interpreter then runs the whole model, or says the file is damaged, as before."""
    data = Path(path).read_bytes()
    try:
        import flatbuffers
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:  # an older LiteRT without the schema: the whole model, only slower
        return data
    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
        graph = model.subgraphs[0]
        outputs = [int(t) for t in graph.outputs if graph.tensors[t].name != name]
        if len(outputs) == len(graph.outputs):
            return data  # not the model this was written for
        # Walk back from the outputs kept: every operator that feeds one of them stays, in its
        # order (the interpreter runs them as listed).
        made_by = {int(t): k for k, op in enumerate(graph.operators) for t in op.outputs}
        needed: set[int] = set()
        todo = list(outputs)
        while todo:
            k = made_by.get(todo.pop())
            if k is not None and k not in needed:
                needed.add(k)
                todo.extend(int(t) for t in graph.operators[k].inputs if t >= 0)
        graph.operators = [op for k, op in enumerate(graph.operators) if k in needed]
        graph.outputs = outputs
        builder = flatbuffers.Builder(len(data) + 4096)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())
    except Exception:  # a damaged file: let the interpreter say so, as for any model file
        return data


def _paths(directory: Path) -> ModelPaths:
    return ModelPaths(directory / "pose_detection.tflite", directory / "pose_landmark_full.tflite")


def extract_from_wheel(wheel: Path, directory: Path) -> None:
    """Take the two model files out of a mediapipe wheel, checked, written atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as e:
        raise UserError(f"{wheel} is not a readable wheel ({e})") from None
    with archive:
        for name, (member, digest, _) in MODEL_FILES.items():
            try:
                data = archive.read(member)
            except KeyError:
                raise UserError(f"{wheel} has no {member}; it must be the {WHEEL} wheel") from None
            if hashlib.sha256(data).hexdigest() != digest:
                raise UserError(f"{member} in {wheel} has an unexpected SHA-256; refusing it")
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.chmod(tmp, 0o644)
                os.replace(tmp, directory / name)  # never leave half a model behind
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise


def _download_wheel(into: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["--quiet", WHEEL, "-d", str(into)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UserError(f"cannot download {WHEEL} for the pose models: {e}") from None
    wheels = sorted(into.glob("mediapipe-*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["pip gave no reason"])[-1]
        raise UserError(
            f"cannot download {WHEEL} for the pose models ({last}); "
            "or fetch the wheel yourself and run `limber models --wheel FILE.whl`"
        )
    return wheels[0]


def ensure_models(
    directory: Path | None = None, fetch: bool = True, wheel: Path | None = None
) -> ModelPaths:
    """The paths of both model files, fetching them first when missing or damaged.

    With fetch=False nothing is downloaded: a missing or damaged file is a UserError that
    says how to fix it.
    """
    directory = models_dir() if directory is None else Path(directory)
    paths = _paths(directory)
    problems = {p: _problem(p) for p in (paths.detector, paths.landmarks)}
    if not any(problems.values()):
        return paths
    if not fetch and wheel is None:
        path, why = next((p, w) for p, w in problems.items() if w)
        raise UserError(f"the pose model {path} {why}; {FIX}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the models folder {directory}: {e.strerror}") from None
    if wheel is not None:
        extract_from_wheel(Path(wheel), directory)
    else:
        with tempfile.TemporaryDirectory(prefix="limber-wheel-") as tmp:
            extract_from_wheel(_download_wheel(Path(tmp)), directory)
    for p in (paths.detector, paths.landmarks):
        why = _problem(p)
        if why:
            raise UserError(f"the pose model {p} {why} even after fetching it")
    return paths
