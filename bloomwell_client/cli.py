"""``bloomwell``: log in, upload videos and follow their analysis, list, fetch and delete results.

Exit codes (also in ``bloomwell --help``):

=====  ===============================================================================
0      success
1      unexpected error
2      usage error: unknown option, missing or unreadable file (Click's own code)
3      not logged in, wrong e-mail or password, or the session expired or was revoked
4      no such analysis (or not yours)
5      the API cannot be reached (connection refused, timeout)
6      an analysis ended ``failed`` (its message is printed)
7      the API refused the request (not a video, too large or long, not finished yet, throttled, ...)
8      the API had a server error or is unavailable (5xx)
130    interrupted (Ctrl-C)
=====  ===============================================================================
"""

from __future__ import annotations

import enum
import functools
import json
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bloomwell_client.client import (
    DEFAULT_API,
    AnalysisFailed,
    ApiError,
    BloomwellClient,
    BloomwellError,
    NotLoggedIn,
    ResultFormat,
    TokenStore,
    Unreachable,
)
from services.common.events import ProgressEvent

F = TypeVar("F", bound=Callable[..., Any])


class ExitCode(enum.IntEnum):
    """The command's exit statuses (see the module docstring)."""

    ok = 0
    error = 1
    usage = 2
    auth = 3
    not_found = 4
    unreachable = 5
    analysis_failed = 6
    rejected = 7
    server = 8
    interrupted = 130


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit status that reports ``exc``."""
    if isinstance(exc, NotLoggedIn):
        return ExitCode.auth
    if isinstance(exc, Unreachable):
        return ExitCode.unreachable
    if isinstance(exc, AnalysisFailed):
        return ExitCode.analysis_failed
    if isinstance(exc, ApiError):
        if exc.status_code == 404:
            return ExitCode.not_found
        return ExitCode.server if exc.status_code >= 500 else ExitCode.rejected
    return ExitCode.error


err = Console(stderr=True, highlight=False)
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
"""Standard output: a table as wide as the terminal, or unwrapped lines when piped."""


def _fail(exc: BloomwellError) -> None:
    message = str(exc)
    if isinstance(exc, ApiError) and exc.retry_after:
        message += f" (retry after {exc.retry_after} s)"
    err.print(f"[bold red]Error:[/] {message}")


def reports_errors(func: F) -> F:
    """Turn the client's exceptions into a one-line message and the matching exit code (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BloomwellError as exc:
            _fail(exc)
            sys.exit(exit_code_for(exc))
        except KeyboardInterrupt:
            err.print("Interrupted.")
            sys.exit(ExitCode.interrupted)

    return cast(F, wrapper)


@dataclass
class Context:
    """What every command gets: the API URL and a client on it."""

    api: str

    def client(self) -> BloomwellClient:
        return BloomwellClient(self.api, TokenStore.default())


pass_context = click.make_pass_decorator(Context)

EPILOG = "Exit codes: 0 ok, 1 unexpected error, 2 usage or file error, 3 not logged in or bad credentials, " \
         "4 not found, 5 API unreachable, 6 analysis failed, 7 request refused, 8 server error, 130 interrupted."


@click.group(epilog=EPILOG)
@click.option("--api", envvar="BLOOMWELL_API", default=DEFAULT_API, show_default=True, metavar="URL",
              help="Base URL of the Bloomwell API (env BLOOMWELL_API).")
@click.version_option("0.1.0", prog_name="bloomwell")
@click.pass_context
def cli(ctx: click.Context, api: str) -> None:
    """Bloomwell from the command line: analyse the facial expressions in short videos.

    A preliminary screening aid, never a diagnosis."""
    ctx.obj = Context(api.rstrip("/"))


@cli.command()
@click.option("--email", help="Account e-mail (prompted when missing).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (else prompted).")
@pass_context
@reports_errors
def login(ctx: Context, email: str | None, password_stdin: bool) -> None:
    """Log in and keep the session (refresh token) in the user's config directory (mode 0600)."""
    email = email or click.prompt("E-mail")
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else click.prompt("Password", hide_input=True)
    if not password:
        raise click.UsageError("The password is empty.")
    with ctx.client() as client:
        client.login(email, password)
        err.print(f"Logged in to {ctx.api} as {email}.")


@cli.command()
@pass_context
@reports_errors
def logout(ctx: Context) -> None:
    """End the session on the server and forget it here."""
    with ctx.client() as client:
        if client.logout():
            err.print("Logged out.")
        else:
            err.print(f"Not logged in to {ctx.api}.")


def _show_sent(progress: Progress, task: TaskID, sent_bytes: int) -> None:
    """Move an upload's bar to ``sent_bytes``."""
    progress.update(task, completed=sent_bytes)


def _event_text(event: ProgressEvent) -> str:
    return event.stage or event.status.value


@cli.command()
@click.argument("videos", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--fps", type=click.FloatRange(min=0.5, max=30.0), help="Frames analysed per second of video.")
@click.option("--wait", is_flag=True, help="Follow each analysis to its end and write its result.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the result files (default: the current folder; implies --wait).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True,
              help="Result file format.")
@click.option("--keep-video", is_flag=True, help="Keep the video on the server after processing.")
@pass_context
@reports_errors
def analyze(ctx: Context, videos: tuple[Path, ...], fps: float | None, wait: bool, out_dir: Path | None,
            fmt: ResultFormat, keep_video: bool) -> None:
    """Upload VIDEO... for analysis; with --wait, show live progress and write each result.

    Prints one line per video: its analysis id (without --wait) or the result file written."""
    wait = wait or out_dir is not None
    out_dir = out_dir or Path.cwd()
    codes: list[ExitCode] = []
    with ctx.client() as client, Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
        console=err, transient=False,
    ) as progress:
        tasks = {video: progress.add_task(f"{video.name} · uploading", total=max(1, video.stat().st_size))
                 for video in videos}
        created: dict[Path, str] = {}
        for video in videos:
            task = tasks[video]
            try:
                analysis = client.upload(video, sample_fps=fps, keep_video=keep_video,
                                         on_bytes=functools.partial(_show_sent, progress, task))
            except (Unreachable, NotLoggedIn):
                raise
            except BloomwellError as exc:
                progress.update(task, description=f"{video.name} · refused")
                progress.console.print(f"[bold red]Error:[/] {video.name}: {exc}")
                codes.append(exit_code_for(exc))
                continue
            created[video] = str(analysis.id)
            progress.reset(task, total=1.0, completed=0, description=f"{video.name} · {analysis.status.value}")
            if not wait:
                progress.update(task, completed=0.0)
                click.echo(f"{analysis.id}\t{video.name}\t{analysis.status.value}")

        if wait and created:
            def follow(video: Path) -> ExitCode:
                analysis_id, task = created[video], tasks[video]

                def on_event(event: ProgressEvent) -> None:
                    progress.update(task, completed=event.progress, description=f"{video.name} · {_event_text(event)}")

                try:
                    state = client.wait(analysis_id, on_event)
                    target = out_dir / f"{video.stem}-{analysis_id}.{fmt}"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(client.result_text(analysis_id, fmt))
                except BloomwellError as exc:
                    progress.update(task, description=f"{video.name} · failed")
                    progress.console.print(f"[bold red]Error:[/] {video.name} ({analysis_id}): {exc}")
                    return exit_code_for(exc)
                progress.update(task, completed=1.0, description=f"{video.name} · done")
                progress.console.print(f"{video.name}: dominant emotion {state.dominant_emotion or '-'}")
                click.echo(str(target))
                return ExitCode.ok

            with ThreadPoolExecutor(max_workers=min(8, len(created))) as pool:
                codes.extend(pool.map(follow, list(created)))
    worst = max(codes, default=ExitCode.ok)
    if worst != ExitCode.ok:
        sys.exit(worst)


@cli.command(name="list")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True, help="How many, newest first.")
@click.option("--all", "everything", is_flag=True, help="Every analysis (page after page).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@pass_context
@reports_errors
def list_analyses(ctx: Context, limit: int, everything: bool, as_json: bool) -> None:
    """Your analyses, newest first."""
    with ctx.client() as client:
        items = list(client.iter_all()) if everything else client.list(limit).items
    if as_json:
        for item in items:
            click.echo(item.model_dump_json())
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("id", no_wrap=True, min_width=36)
    for name in ("created", "status", "dominant"):
        table.add_column(name, no_wrap=True)
    table.add_column("file", overflow="fold")
    for item in items:
        table.add_row(str(item.id), item.created_at.strftime("%Y-%m-%d %H:%M"), item.status.value,
                      item.dominant_emotion or "-", item.filename)
    out.print(table)
    if not items:
        err.print("No analyses yet.")


@cli.command()
@click.argument("analysis_id", metavar="ID", type=click.UUID)
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]),
              help="Print the result in this format (default: the analysis's state).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@pass_context
@reports_errors
def get(ctx: Context, analysis_id: uuid.UUID, fmt: ResultFormat | None, output: Path | None) -> None:
    """One analysis: its state, or with --format its result (refused with code 7 until it succeeded)."""
    with ctx.client() as client:
        if fmt:
            text = client.result_text(analysis_id, fmt)
        else:
            text = json.dumps(client.get(analysis_id).model_dump(mode="json"), indent=2) + "\n"
    if output:
        output.write_text(text)
        err.print(f"Wrote {output}.")
    else:
        click.echo(text, nl=not text.endswith("\n"))


@cli.command()
@click.argument("analysis_ids", metavar="ID...", nargs=-1, required=True, type=click.UUID)
@pass_context
@reports_errors
def delete(ctx: Context, analysis_ids: tuple[uuid.UUID, ...]) -> None:
    """Delete analyses with their video, face crops and result."""
    with ctx.client() as client:
        for analysis_id in analysis_ids:
            client.delete(analysis_id)
            err.print(f"Deleted {analysis_id}.")


def main() -> None:
    """The ``bloomwell`` entry point."""
    cli(prog_name="bloomwell")
