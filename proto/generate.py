"""Regenerate the Python stubs and Envoy's descriptor set from the .proto files.

Usage: ``python proto/generate.py`` (or ``make proto``). The outputs are committed:
``proto/cts/**/*_pb2.py``, ``*_pb2.pyi``, ``*_pb2_grpc.py`` and ``proto/cts.pb`` (the
descriptor set Envoy's gRPC-JSON transcoder loads). ``tests/test_generated_code.py`` runs
:func:`generate` into a temporary folder and fails when the committed files differ.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent
DESCRIPTOR_NAME = "cts.pb"
# Well-known googleapis files that Envoy needs in the descriptor pool to render error details.
EXTRA_DESCRIPTOR_INPUTS = ("google/rpc/status.proto", "google/rpc/error_details.proto")
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "__init__.py")


def proto_sources(root: Path = PROTO_ROOT) -> list[str]:
    """The project's .proto files, relative to ``root``, in a stable order."""
    return sorted(p.relative_to(root).as_posix() for p in (root / "cts").rglob("*.proto"))


def _googleapis_include() -> Path:
    from google.api import annotations_pb2  # googleapis-common-protos ships the .proto files

    return Path(annotations_pb2.__file__).resolve().parents[2]


def _protoc(args: list[str]) -> None:
    import grpc_tools
    from grpc_tools import protoc

    well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"  # google/protobuf/*.proto
    code = protoc.main(["grpc_tools.protoc", *args, f"-I{well_known}"])
    if code != 0:
        raise SystemExit(f"protoc failed ({code}): {' '.join(args)}")


def generate(out_dir: Path, root: Path = PROTO_ROOT) -> list[Path]:
    """Write stubs and the descriptor set for the protos under ``root`` into ``out_dir``.

    Returns the generated files, relative to ``out_dir``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = proto_sources(root)
    includes = ["-I", str(root), "-I", str(_googleapis_include())]
    _protoc(
        [
            *includes,
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            *sources,
        ]
    )
    _protoc(
        [
            *includes,
            "--include_imports",
            f"--descriptor_set_out={out_dir / DESCRIPTOR_NAME}",
            *sources,
            *EXTRA_DESCRIPTOR_INPUTS,
        ]
    )
    for source in sources:
        # Every folder from cts/ down to the module is a regular package.
        for folder in Path(source).parents:
            if folder != Path("."):
                (out_dir / folder / "__init__.py").touch()
    return sorted(
        p.relative_to(out_dir)
        for p in out_dir.rglob("*")
        if p.is_file() and (p.name.endswith(GENERATED_SUFFIXES) or p.name == DESCRIPTOR_NAME)
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        files = generate(Path(tmp))
        for rel in files:
            target = PROTO_ROOT / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(tmp) / rel, target)
    print(f"generated {len(files)} files under {PROTO_ROOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
