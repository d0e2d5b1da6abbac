"""`chacra serve` runs this: the dashboard (chacra_analysis.dashboard) over the files given, on a local port.

    /usr/bin/python3 analysis/serve.py [FILE.h5 ...] [--port 8050] [--host 127.0.0.1] [--chacra EXE]
        [--scenarios DIR] [--runs DIR]

Exit status 2 for bad input (a missing or invalid file, Flask not installed), 1 when the port cannot be
had (in use, or not allowed), 130 on Ctrl-C. With --port 0 the system picks a free port; the address is printed
on the first line of the output either way.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="chacra serve", description="the dashboard of run and sweep files")
    parser.add_argument("files", nargs="*", metavar="FILE.h5")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--chacra", default=None, help="the chacra executable (another reference arm, runs)")
    parser.add_argument("--scenarios", default=os.path.join(os.path.dirname(HERE), "configs"),
                        help="folder of the scenarios the page offers")
    parser.add_argument("--runs", default=None, help="folder for uploads and runs (default: a new temporary one)")
    args = parser.parse_args(argv)
    if args.runs is not None and os.path.exists(args.runs) and not os.path.isdir(args.runs):
        print(f"chacra: --runs {args.runs} is not a folder", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"chacra: --port expects a whole number in [0, 65535], got {args.port}", file=sys.stderr)
        return 2
    try:
        import flask  # noqa: F401
        from werkzeug.serving import make_server
    except ImportError:
        print("chacra: serve needs Flask for Debian's /usr/bin/python3: apt-get install python3-flask "
              "(tools/setup.sh installs it)", file=sys.stderr)
        return 2
    os.environ.setdefault("MPLBACKEND", "Agg")
    from chacra_analysis.dashboard import create_app
    from chacra_analysis.loader import ChacraFileError

    try:
        app = create_app(args.files, chacra=args.chacra, scenarios_dir=args.scenarios, runs_dir=args.runs)
    except ChacraFileError as e:
        print(f"chacra: {e}", file=sys.stderr)
        return 2
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except (OSError, SystemExit) as e:
        # werkzeug exits on a port in use after printing its own hint; say it in chacra's words.
        print(f"chacra: cannot listen on {args.host}:{args.port}: "
              f"{getattr(e, 'strerror', None) or 'address already in use'}; pick another with --port "
              "(--port 0: any free port)", file=sys.stderr)
        return 1
    host = args.host if ":" not in args.host else f"[{args.host}]"
    print(f"chacra serve: http://{host}:{server.server_port}/ ({len(args.files)} file"
          f"{'s' if len(args.files) != 1 else ''}; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 130
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
