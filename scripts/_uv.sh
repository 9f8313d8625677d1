# Sourced by the scripts: makes sure `uv` is on PATH and the locked environment is synced.
# Needs only Python 3.11 with pip.

if ! command -v uv >/dev/null 2>&1; then
    # A distribution's own Python may refuse plain pip installs (PEP 668): fall back
    # to a user install then.
    python3 -m pip install --quiet uv 2>/dev/null ||
        python3 -m pip install --quiet --user --break-system-packages uv
    # pip may install into a user or framework bin directory not yet on PATH.
    if ! command -v uv >/dev/null 2>&1; then
        PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
        PATH="$(python3 -m site --user-base)/bin:$PATH"
        export PATH
    fi
fi

uv sync --frozen --quiet
