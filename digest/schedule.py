"""The crontab line for ``digest run``: absolute paths, the home, and a log of what cron's runs print."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from digest.config import Config, required_secrets
from digest.errors import ConfigError
from digest.models import MailingList

MARK = "# digest run"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def time_of_day(at: str, option: str = "--at") -> tuple[int, int]:
    """``HH:MM`` as (hour, minute), or a :class:`ConfigError` naming ``option``."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", at.strip())
    if not match:
        raise ConfigError(f"{option} {at!r} is not a time of day; use HH:MM, e.g. 07:00")
    return int(match.group(1)), int(match.group(2))


def check_send_at(at: str) -> str:
    """A list's send time as stored (``07:00``); ``""`` means "whenever ``digest run`` runs"."""
    if not at.strip():
        return ""
    hour, minute = time_of_day(at, "--send-at")
    return f"{hour:02d}:{minute:02d}"


def check_timezone(name: str, option: str = "--timezone") -> str:
    """An IANA zone name as given (``Europe/Paris``), ``""`` for the configured one, else a ConfigError."""
    name = name.strip()
    if not name:
        return ""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        ZoneInfo(name)
        # 'localtime' is the machine's zone, which must not decide a list's dates; 'Factory' is no place
        if name in ("localtime", "posixrules", "Factory") or name not in available_timezones():
            raise ValueError(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{option} {name!r} is not a timezone; use an IANA name such as Europe/Paris") from None
    return name


def check_weekday(day: str) -> str:
    """A weekly list's day (``monday``..``sunday``; any unambiguous prefix), ``""``/``daily`` for a daily list."""
    day = day.strip().lower()
    if day in ("", "daily"):
        return ""
    found = [w for w in WEEKDAYS if len(day) >= 2 and w.startswith(day)]
    if len(found) != 1:
        raise ConfigError(f"--weekday {day!r} is not a day; use monday..sunday, or daily")
    return found[0]


def cron_line(config: Config, at: str, hourly: bool = False) -> str:
    """The crontab line: every day at ``at`` (machine time), or with ``hourly`` every hour at ``at``'s minute."""
    hour, minute = time_of_day(at)
    exe = shutil.which("digest") or str(Path(sys.executable).with_name("digest"))
    home = shlex.quote(str(config.home))
    log = shlex.quote(str(config.cron_log_path))
    command = f"cd {home} && DIGEST_HOME={home} {shlex.quote(exe)} run >> {log} 2>&1"
    # cron turns an unescaped % into a newline
    return f"{minute} {'*' if hourly else hour} * * * {command.replace('%', chr(92) + '%')} {MARK} {config.home}"


@dataclass(frozen=True)
class ListRhythm:
    """When one list goes out under the schedule: what ``digest schedule`` says of it."""

    list: str
    timezone: str  # the list's (its own, else [digest] timezone)
    send_at: str  # "" : whenever the run runs
    weekday: str  # "" : daily
    runs_at: str  # the daily run's time in the list's timezone ("" with --hourly)
    note: str  # the sentence said of it

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def rhythms(config: Config, lists: list[MailingList], at: str, hourly: bool, now: datetime) -> list[ListRhythm]:
    """Each list's rhythm under a cron line running at ``at`` machine time (or every hour): its own send time and
    timezone, which only an hourly run honours, and for a daily run what ``at`` is in the list's timezone
    (taken on the date of ``now``: the machine's and the list's offsets differ by season)."""
    hour, minute = time_of_day(at)
    machine = now.astimezone()  # the machine's own zone, which cron's hours are in
    run = machine.replace(hour=hour, minute=minute, second=0)
    out = []
    for lst in lists:
        zone = lst.timezone or config.settings.timezone
        day = f"{lst.weekday}s ({zone})" if lst.weekday else "daily"
        if hourly:
            runs_at = ""
            when = (
                f"at {lst.send_at} in each reader's timezone (else {zone})"
                if lst.send_at
                else f"at the first run after 00:00 in {zone}: set 'digest lists edit {lst.name} --send-at 07:00'"
                " for a morning hour"
            )
            note = f"{lst.name}: {day}, {when}"
        else:
            runs_at = run.astimezone(ZoneInfo(zone)).strftime("%H:%M")
            note = f"{lst.name}: {day}, at {runs_at} in {zone} (the run's {at} machine time)"
            if lst.send_at:
                note += f"; its send time {lst.send_at} and its readers' timezones need 'digest schedule --hourly'"
        out.append(ListRhythm(lst.name, zone, lst.send_at, lst.weekday, runs_at, note))
    return out


def secrets_hint(config: Config) -> str | None:
    """Cron does not see the shell's environment: say which secrets the crontab needs."""
    names = required_secrets(config)
    if not names:
        return None
    return (
        f"cron does not see your shell's variables: add {', '.join(n + '=...' for n in names)} lines"
        " at the top of the crontab ('crontab -e'), never in digest.toml"
    )


def install(line: str) -> None:
    if shutil.which("crontab") is None:
        raise ConfigError(
            "crontab is not installed here (Debian/Ubuntu: 'sudo apt install cron'; Fedora: 'sudo dnf install"
            f" cronie'); install it and run this again, or add this line to your scheduler by hand: {line}"
        )
    current = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    existing = current.stdout.splitlines() if current.returncode == 0 else []
    tag = line.split(MARK, 1)[1]
    kept = [x for x in existing if not x.endswith(MARK + tag)]
    new = "\n".join([*kept, line]) + "\n"
    done = subprocess.run(["crontab", "-"], input=new, capture_output=True, text=True)
    if done.returncode != 0:
        raise ConfigError(f"crontab refused the line: {done.stderr.strip()}")
