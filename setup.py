"""fairseq-plugins: LUKE, BLINK, LEAR, the NQ reader and UER-py as one fairseq --user-dir package."""
from pathlib import Path

from setuptools import find_packages, setup


def _requirements(name):
    lines = Path(__file__).with_name(name).read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


setup(
    name="fairseq-plugins",
    version="0.1.0",
    description=__doc__,
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["fairseq_plugins", "fairseq_plugins.*"]),
    # fairseq-fixed is deliberately not listed: it must be installed with --no-deps
    # (see the Makefile), otherwise pip resolves its torchaudio requirement.
    install_requires=_requirements("requirements.txt"),
    extras_require={"test": _requirements("requirements-test.txt")},
)
