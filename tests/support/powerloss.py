"""Power loss, modelled: what a store's files hold on disk after the machine stops at a given instant.

A process run with :func:`env` (an ``LD_PRELOAD`` shim around ``fsync``/``fdatasync``) notes, each time it
syncs a ``-wal`` file, the size that is now on disk in ``<wal>.synced``. :func:`snapshot` copies a home as a
power cut would leave it: the database file, and the WAL cut back to its last synced length (what the page
cache held beyond that is lost). Resuming from the copy is the re-run after the machine comes back.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void note(int fd) {
    char link[64], path[4096], out[4200], tmp[4300];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 5) return;
    path[n] = 0;
    if (strcmp(path + n - 4, "-wal") != 0) return;
    struct stat st;
    if (fstat(fd, &st) != 0) return;
    snprintf(out, sizeof out, "%s.synced", path);
    snprintf(tmp, sizeof tmp, "%s.%d", out, (int)getpid());
    int w = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w < 0) return;
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%lld", (long long)st.st_size);
    if (write(w, buf, len) == len) rename(tmp, out);
    close(w);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int r = real(fd);
    if (r == 0) note(fd);
    return r;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int r = real(fd);
    if (r == 0) note(fd);
    return r;
}
"""


def build_shim(where: Path) -> Path:
    """Compile the shim (skips, saying why, without a C compiler)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler: the power-loss model needs one to build its fsync shim")
    source, lib = where / "synced.c", where / "synced.so"
    source.write_text(SHIM)
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(lib), str(source), "-ldl"], check=True)
    return lib


def env(lib: Path) -> dict[str, str]:
    return {"LD_PRELOAD": str(lib)}


def synced_length(wal: Path) -> int:
    note = Path(f"{wal}.synced")
    try:
        return int(note.read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0  # never synced: a power cut loses all of it


def snapshot(home: Path, to: Path, db_name: str = "digest.db") -> Path:
    """Copy ``home`` into ``to`` as a power cut now would leave it on disk."""
    wal = home / f"{db_name}-wal"
    keep = synced_length(wal)  # read first: anything synced later is not in this instant's disk
    shutil.copytree(
        home, to, ignore=shutil.ignore_patterns(f"{db_name}-wal", f"{db_name}-shm", "*.synced", "*.synced.*")
    )
    if wal.exists():
        with wal.open("rb") as fh:
            (to / wal.name).write_bytes(fh.read(keep))
    return to
