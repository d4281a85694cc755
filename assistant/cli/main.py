"""The ``openbook`` command."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from ..errors import OpenbookError
from .common import AppContext, err, set_override


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("--db-url", help="External PostgreSQL URL (overrides DATABASE_URL).")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Embedded database directory.")
@click.option("--schema", help="Database schema holding the library.")
@click.option("--embedding-provider", type=click.Choice(["sentence-transformers", "ollama"]))
@click.option("--embedding-model", help="Embedding model name or local directory.")
@click.option("--ollama-host", help="Ollama server URL (overrides OLLAMA_HOST).")
@click.version_option(package_name="openbook")
@click.pass_context
def cli(
    ctx: click.Context,
    debug: bool,
    db_url: str | None,
    data_dir: Path | None,
    schema: str | None,
    embedding_provider: str | None,
    embedding_model: str | None,
    ollama_host: str | None,
) -> None:
    """Openbook: ask questions of your own documents, offline, from the terminal.

    Without a command, opens the chat on your library (adding the bundled sample
    documents the first time).
    """
    app = ctx.ensure_object(AppContext)
    app.debug = debug
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    set_override(app, "database.url", db_url)
    set_override(app, "database.data_dir", data_dir)
    set_override(app, "database.db_schema", schema)
    set_override(app, "embedding.provider", embedding_provider)
    set_override(app, "embedding.model", embedding_model)
    set_override(app, "ollama.host", ollama_host)
    if ctx.invoked_subcommand is None:
        from .chat_cmd import chat

        ctx.invoke(chat)


def _register() -> None:
    from . import (
        ask_cmd,
        chat_cmd,
        config_cmd,
        eval_cmds,
        finetune_cmds,
        library_cmds,
        mcp_cmd,
        models_cmds,
        quickstart,
        reranker_cmd,
        rewriter_cmd,
        search_cmds,
        traces_cmds,
        tune_cmds,
    )

    cli.add_command(config_cmd.config)
    cli.add_command(library_cmds.ingest)
    cli.add_command(library_cmds.status)
    cli.add_command(library_cmds.docs)
    cli.add_command(library_cmds.reembed)
    cli.add_command(library_cmds.db)
    cli.add_command(quickstart.quickstart)
    cli.add_command(search_cmds.search)
    cli.add_command(eval_cmds.eval_group)
    cli.add_command(finetune_cmds.finetune)
    finetune_cmds.finetune.add_command(rewriter_cmd.finetune_rewriter)
    finetune_cmds.finetune.add_command(reranker_cmd.finetune_reranker)
    cli.add_command(tune_cmds.tune)
    cli.add_command(models_cmds.models)
    cli.add_command(traces_cmds.traces)
    cli.add_command(ask_cmd.ask)
    cli.add_command(chat_cmd.chat)
    cli.add_command(mcp_cmd.mcp)


_register()


def main(argv: list[str] | None = None) -> None:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="openbook", standalone_mode=False)
    except OpenbookError as exc:
        if debug:
            raise
        err(f"Error: {exc.message}")
        if exc.hint:
            err(f"  → {exc.hint}")
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err("Aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err("Interrupted.")
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
