#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A stand-in for BettaFish's Flask + Flask-SocketIO server, for integration tests.

It reproduces the wire shapes of BettaFish's app.py (HTTP JSON endpoints,
Socket.IO events, logs/<app>.log and logs/forum.log, and the forum.log monitor
thread with its quirks) without running any sub-application. Tests drive it
through extra POST endpoints under /_test/.

Usage:
    /usr/bin/python3 fake_bettafish.py --logs-dir DIR [--port 0]
        [--start-delay 0.5] [--forum-poll 1.0] [--ping-interval S]
        [--ping-timeout S]

It listens on 127.0.0.1 only, prints one line "PORT <n>" on stdout once it
accepts connections, and exits with status 0 on SIGTERM or SIGINT.

Needs Debian bookworm's python3-flask-socketio and python3-eventlet.

Test controls (POST, JSON body, answer {"ok": true, ...}):
    /_test/lines          {"app", "lines": [...], "interval": 0.0, "async": false}
    /_test/forum          {"lines": ["[QUERY] body", ...]}
    /_test/forum_session  {"start": true} | {"end": true}
    /_test/socket         {"mode": "flow"|"stall"|"drop_console"|"drop_all"|"freeze"}
                          | {"stall_after": N}
    /_test/app_restart    {"app"}
    /_test/generate       {"app", "rate": 5000, "seconds": 10} | {"stop": true}
and GET /_test/generate_status, GET /_test/state.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import engineio.socket  # noqa: E402
import eventlet.wsgi  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402
from flask_socketio import SocketIO, emit  # noqa: E402

app = Flask(__name__)
app.config['SECRET_KEY'] = 'fake-bettafish'
# Options are given in main() through init_app (the ping interval is a flag).
socketio = SocketIO()

LOG_DIR = Path('logs')
START_DELAY = 0.5
FORUM_POLL = 1.0

STREAMLIT_APPS = ('insight', 'media', 'query')

# Same keys and initial values as the real `processes` table; 'output' is never
# filled there either, so /api/status always reports output_lines 0.
processes = {
    'insight': {'port': 8501, 'status': 'stopped', 'output': []},
    'media': {'port': 8502, 'status': 'stopped', 'output': []},
    'query': {'port': 8503, 'status': 'stopped', 'output': []},
    'forum': {'port': None, 'status': 'stopped', 'output': []},
}
# Bumped on every start/stop so that a pending "starting -> running" step of an
# earlier start does not apply after a stop or a newer start.
start_generation = {name: 0 for name in processes}

system_state = {'started': False, 'starting': False}

connected_clients = set()


def now_hms():
    return datetime.now().strftime('%H:%M:%S')


def now_date_time():
    return datetime.now().strftime('%Y-%m-%d %H:%M:%S')


# ---------------------------------------------------------------------------
# Socket behaviour controlled by the tests


class SocketGate:
    """Decides which events go out; counts console_output events sent.

    flow          everything is sent
    stall         no event is sent (Engine.IO pings continue; the connection stays open)
    drop_all      same as stall
    drop_console  console_output is not sent; status, status_update and forum_message are
    freeze        as stall, and no Engine.IO packet at all (not even pings) is sent
    """

    MODES = ('flow', 'stall', 'drop_console', 'drop_all', 'freeze')

    def __init__(self):
        self.mode = 'flow'
        self.stall_after = None  # console_output events still allowed before stalling
        self.emitted = 0

    def set_mode(self, mode):
        self.mode = mode
        self.stall_after = None

    def allows(self, event):
        if self.mode in ('stall', 'drop_all', 'freeze'):
            return False
        if self.mode == 'drop_console' and event == 'console_output':
            return False
        return True

    def sent(self, event):
        if event != 'console_output':
            return
        self.emitted += 1
        if self.stall_after is not None:
            self.stall_after -= 1
            if self.stall_after <= 0:
                self.set_mode('stall')


gate = SocketGate()


def broadcast(event, data):
    """socketio.emit from a background task, as the real threads do, through the gate."""
    if gate.allows(event):
        socketio.emit(event, data)
        gate.sent(event)


def reply(event, data):
    """flask_socketio.emit inside an event handler, through the gate."""
    if gate.allows(event):
        emit(event, data)
        gate.sent(event)


_engineio_send = engineio.socket.Socket.send


def _gated_engineio_send(self, pkt):
    if gate.mode == 'freeze':
        return
    _engineio_send(self, pkt)


engineio.socket.Socket.send = _gated_engineio_send


# ---------------------------------------------------------------------------
# Log files, as in the real app.py


def write_log_to_file(app_name, line):
    try:
        with open(LOG_DIR / f"{app_name}.log", 'a', encoding='utf-8') as f:
            f.write(line + '\n')
            f.flush()
    except Exception as e:
        print(f"Error writing log for {app_name}: {e}", file=sys.stderr)


def read_log_from_file(app_name, tail_lines=None):
    try:
        log_file_path = LOG_DIR / f"{app_name}.log"
        if not log_file_path.exists():
            return []
        with open(log_file_path, 'r', encoding='utf-8') as f:
            lines = f.readlines()
            lines = [line.rstrip('\n\r') for line in lines if line.strip()]
            if tail_lines:
                return lines[-tail_lines:]
            return lines
    except Exception as e:
        print(f"Error reading log for {app_name}: {e}", file=sys.stderr)
        return []


def process_child_line(app_name, raw_line):
    """One line read from a child's stdout, handled as read_process_output does."""
    line = raw_line.strip()
    if not line:
        return None
    formatted_line = f"[{now_hms()}] {line}"
    write_log_to_file(app_name, formatted_line)
    broadcast('console_output', {'app': app_name, 'line': formatted_line})
    return formatted_line


def init_forum_log():
    with open(LOG_DIR / 'forum.log', 'w', encoding='utf-8') as f:
        f.write(f"=== ForumEngine 系统初始化 - {now_date_time()} ===\n")


def append_forum_lines(lines):
    """Writes lines as ForumEngine's write_to_forum_log does: "[HH:MM:SS] " + line."""
    written = []
    with open(LOG_DIR / 'forum.log', 'a', encoding='utf-8') as f:
        for line in lines:
            formatted = f"[{now_hms()}] {line}"
            f.write(formatted + '\n')
            written.append(formatted)
        f.flush()
    return written


def parse_forum_log_line(line):
    pattern = r'\[(\d{2}:\d{2}:\d{2})\]\s*\[([A-Z]+)\]\s*(.*)'
    match = re.match(pattern, line)
    if match:
        timestamp, source, content = match.groups()
        if source == 'SYSTEM' or not content.strip():
            return None
        if source not in ['QUERY', 'INSIGHT', 'MEDIA']:
            return None
        return {
            'type': 'agent',
            'sender': f'{source} Engine',
            'content': content.strip(),
            'timestamp': timestamp,
            'source': source,
        }
    return None


def monitor_forum_log():
    """The real monitor_forum_log, with a configurable poll interval.

    Kept faithfully: last_position is never reset when forum.log is recreated
    smaller, identical lines are emitted once (hash set, cleared past 1000).
    """
    forum_log_file = LOG_DIR / 'forum.log'
    last_position = 0
    processed_lines = set()

    if forum_log_file.exists():
        with open(forum_log_file, 'r', encoding='utf-8', errors='ignore') as f:
            for line in f.readlines():
                processed_lines.add(hash(line.strip()))
            last_position = f.tell()

    while True:
        try:
            if forum_log_file.exists():
                with open(forum_log_file, 'r', encoding='utf-8', errors='ignore') as f:
                    f.seek(last_position)
                    new_lines = f.readlines()
                    if new_lines:
                        for line in new_lines:
                            line = line.rstrip('\n\r')
                            if line.strip():
                                line_hash = hash(line.strip())
                                if line_hash in processed_lines:
                                    continue
                                processed_lines.add(line_hash)

                                parsed_message = parse_forum_log_line(line)
                                if parsed_message:
                                    broadcast('forum_message', parsed_message)

                                formatted_line = f"[{now_hms()}] {line}"
                                broadcast('console_output', {'app': 'forum', 'line': formatted_line})

                        last_position = f.tell()
                        if len(processed_lines) > 1000:
                            processed_lines.clear()
            eventlet.sleep(FORUM_POLL)
        except Exception as e:
            print(f"Forum日志监听错误: {e}", file=sys.stderr)
            eventlet.sleep(5)


# ---------------------------------------------------------------------------
# Sub-application lifecycle (no real children)


def begin_app_start(app_name):
    """What start_streamlit_app does before the child is up; running follows after START_DELAY."""
    log_file_path = LOG_DIR / f"{app_name}.log"
    if log_file_path.exists():
        log_file_path.unlink()
    write_log_to_file(app_name, f"[{now_hms()}] 启动 {app_name} 应用...")
    processes[app_name]['status'] = 'starting'
    processes[app_name]['output'] = []
    start_generation[app_name] += 1
    generation = start_generation[app_name]

    def become_running():
        eventlet.sleep(START_DELAY)
        if start_generation[app_name] == generation and processes[app_name]['status'] == 'starting':
            processes[app_name]['status'] = 'running'

    socketio.start_background_task(become_running)


def wait_for_app_startup(app_name, max_wait_time):
    deadline = time.monotonic() + max_wait_time
    while time.monotonic() < deadline:
        status = processes[app_name]['status']
        if status == 'stopped':
            return False, "进程已停止"
        if status == 'running':
            return True, "启动成功"
        eventlet.sleep(0.05)
    return False, "启动超时"


def start_streamlit_app(app_name):
    if processes[app_name]['status'] != 'stopped':
        return False, "应用已经在运行"
    begin_app_start(app_name)
    return True, f"{app_name} 应用启动中..."


def stop_streamlit_app(app_name):
    if processes[app_name]['status'] == 'stopped':
        return False, "应用未运行"
    start_generation[app_name] += 1
    processes[app_name]['status'] = 'stopped'
    return True, f"{app_name} 应用已停止"


def status_table(with_output_lines):
    table = {}
    for app_name, info in processes.items():
        entry = {'status': info['status'], 'port': info['port']}
        if with_output_lines:
            entry['output_lines'] = len(info['output'])
        table[app_name] = entry
    return table


# ---------------------------------------------------------------------------
# BettaFish's HTTP API


@app.route('/api/status')
def get_status():
    return jsonify(status_table(with_output_lines=True))


@app.route('/api/start/<app_name>')
def start_app(app_name):
    if app_name not in processes:
        return jsonify({'success': False, 'message': '未知应用'})
    if app_name == 'forum':
        processes['forum']['status'] = 'running'
        return jsonify({'success': True, 'message': 'ForumEngine已启动'})
    success, message = start_streamlit_app(app_name)
    if success:
        startup_success, startup_message = wait_for_app_startup(app_name, START_DELAY + 15)
        if not startup_success:
            message += f" 但启动检查失败: {startup_message}"
    return jsonify({'success': success, 'message': message})


@app.route('/api/stop/<app_name>')
def stop_app(app_name):
    if app_name not in processes:
        return jsonify({'success': False, 'message': '未知应用'})
    if app_name == 'forum':
        processes['forum']['status'] = 'stopped'
        return jsonify({'success': True, 'message': 'ForumEngine已停止'})
    success, message = stop_streamlit_app(app_name)
    return jsonify({'success': success, 'message': message})


@app.route('/api/output/<app_name>')
def get_output(app_name):
    if app_name not in processes:
        return jsonify({'success': False, 'message': '未知应用'})
    if app_name == 'forum':
        forum_log_content = read_log_from_file('forum')
        return jsonify({'success': True, 'output': forum_log_content,
                        'total_lines': len(forum_log_content)})
    return jsonify({'success': True, 'output': read_log_from_file(app_name)})


@app.route('/api/test_log/<app_name>')
def test_log(app_name):
    if app_name not in processes:
        return jsonify({'success': False, 'message': '未知应用'})
    test_msg = f"[{now_hms()}] 测试日志消息 - {datetime.now()}"
    write_log_to_file(app_name, test_msg)
    broadcast('console_output', {'app': app_name, 'line': test_msg})
    return jsonify({'success': True, 'message': f'测试消息已写入 {app_name} 日志'})


@app.route('/api/forum/start')
def start_forum_monitoring_api():
    return jsonify({'success': True, 'message': 'ForumEngine论坛已启动'})


@app.route('/api/forum/stop')
def stop_forum_monitoring_api():
    return jsonify({'success': True, 'message': 'ForumEngine论坛已停止'})


@app.route('/api/forum/log')
def get_forum_log():
    try:
        forum_log_file = LOG_DIR / 'forum.log'
        if not forum_log_file.exists():
            return jsonify({'success': True, 'log_lines': [], 'parsed_messages': [], 'total_lines': 0})
        with open(forum_log_file, 'r', encoding='utf-8', errors='ignore') as f:
            lines = [line.rstrip('\n\r') for line in f.readlines() if line.strip()]
        parsed_messages = [m for m in (parse_forum_log_line(line) for line in lines) if m]
        return jsonify({'success': True, 'log_lines': lines, 'parsed_messages': parsed_messages,
                        'total_lines': len(lines)})
    except Exception as e:
        return jsonify({'success': False, 'message': f'读取forum.log失败: {str(e)}'})


@app.route('/api/system/status')
def get_system_status():
    return jsonify({'success': True, 'started': system_state['started'],
                    'starting': system_state['starting']})


@app.route('/api/system/start', methods=['POST'])
def start_system():
    if system_state['started']:
        return jsonify({'success': False, 'message': '系统已启动'}), 400
    if system_state['starting']:
        return jsonify({'success': False, 'message': '系统正在启动'}), 400
    system_state['starting'] = True
    try:
        logs = ["已停止 ForumEngine 监控器以避免文件冲突"]
        processes['forum']['status'] = 'stopped'
        for app_name in STREAMLIT_APPS:
            success, message = start_streamlit_app(app_name)
            logs.append(f"{app_name}: {message}")
            if success:
                _, startup_message = wait_for_app_startup(app_name, START_DELAY + 30)
                logs.append(f"{app_name} 启动检查: {startup_message}")
        processes['forum']['status'] = 'running'
        logs.append("ForumEngine 启动完成")
        system_state['started'] = True
        return jsonify({'success': True, 'message': '系统启动成功', 'logs': logs})
    finally:
        system_state['starting'] = False


# ---------------------------------------------------------------------------
# Socket.IO handlers, as in the real app.py


@socketio.on('connect')
def handle_connect():
    connected_clients.add(request.sid)
    reply('status', 'Connected to Flask server')


@socketio.on('disconnect')
def handle_disconnect():
    connected_clients.discard(request.sid)


@socketio.on('request_status')
def handle_status_request():
    reply('status_update', status_table(with_output_lines=False))


# ---------------------------------------------------------------------------
# Test controls


def body():
    return request.get_json(force=True, silent=True) or {}


def bad(message):
    return jsonify({'ok': False, 'error': message}), 400


@app.route('/_test/lines', methods=['POST'])
def test_lines():
    data = body()
    app_name = data.get('app')
    if app_name not in processes:
        return bad('unknown app')
    lines = data.get('lines') or []
    interval = float(data.get('interval') or 0.0)

    def run():
        written = []
        for i, item in enumerate(lines):
            if i and interval > 0:
                eventlet.sleep(interval)
            # A child's stdout is read line by line, so embedded newlines split.
            for raw in str(item).split('\n'):
                formatted = process_child_line(app_name, raw)
                if formatted is not None:
                    written.append(formatted)
        return written

    if data.get('async'):
        socketio.start_background_task(run)
        return jsonify({'ok': True, 'async': True})
    written = run()
    return jsonify({'ok': True, 'written': len(written), 'lines': written})


@app.route('/_test/forum', methods=['POST'])
def test_forum():
    written = append_forum_lines([str(line) for line in (body().get('lines') or [])])
    return jsonify({'ok': True, 'written': len(written), 'lines': written})


@app.route('/_test/forum_session', methods=['POST'])
def test_forum_session():
    data = body()
    written = []
    if data.get('start'):
        # ForumEngine's clear_forum_log: delete, recreate, write the start marker.
        forum_log_file = LOG_DIR / 'forum.log'
        if forum_log_file.exists():
            forum_log_file.unlink()
        forum_log_file.touch()
        written += append_forum_lines([f"[SYSTEM] === ForumEngine 监控开始 - {now_date_time()} ==="])
    if data.get('end'):
        written += append_forum_lines([f"[SYSTEM] === ForumEngine 论坛结束 - {now_date_time()} ==="])
    return jsonify({'ok': True, 'lines': written})


@app.route('/_test/socket', methods=['POST'])
def test_socket():
    data = body()
    if 'mode' in data:
        if data['mode'] not in SocketGate.MODES:
            return bad('unknown mode')
        gate.set_mode(data['mode'])
    if 'stall_after' in data:
        gate.set_mode('flow')
        gate.stall_after = int(data['stall_after'])
        if gate.stall_after <= 0:
            gate.set_mode('stall')
    return jsonify({'ok': True, 'mode': gate.mode, 'stall_after': gate.stall_after})


@app.route('/_test/app_restart', methods=['POST'])
def test_app_restart():
    app_name = body().get('app')
    if app_name not in STREAMLIT_APPS:
        return bad('unknown app')
    begin_app_start(app_name)
    return jsonify({'ok': True, 'status': processes[app_name]['status']})


generator = {'running': False, 'stop': False, 'app': None, 'written': 0, 'target': 0,
             'started_at': None, 'finished_at': None}

ENGINE_MODULES = {'insight': 'InsightEngine', 'media': 'MediaEngine', 'query': 'QueryEngine'}


def generate_lines(app_name, rate, seconds):
    """Writes rate*seconds loguru-style lines in 10 ms batches, one console_output per line."""
    module = ENGINE_MODULES[app_name]
    target = int(rate * seconds)
    max_batch = max(1, int(rate // 50))
    log_file_path = LOG_DIR / f"{app_name}.log"
    start = time.monotonic()
    n = 0
    try:
        while n < target and not generator['stop']:
            due = min(target, int((time.monotonic() - start) * rate) + 1)
            count = min(due - n, max_batch)
            if count > 0:
                now = datetime.now()
                stamp = now.strftime('%Y-%m-%d %H:%M:%S.') + f"{now.microsecond // 1000:03d}"
                hms = now.strftime('%H:%M:%S')
                batch = []
                for _ in range(count):
                    n += 1
                    level = 'ERROR' if n % 1000 == 0 else 'WARNING' if n % 100 == 0 else 'INFO'
                    batch.append(f"[{hms}] {stamp} | {level:<8} | {module}.agent:run:41 - "
                                 f"line {n} 基准测试输出")
                with open(log_file_path, 'a', encoding='utf-8') as f:
                    f.write('\n'.join(batch) + '\n')
                generator['written'] = n
                for formatted_line in batch:
                    broadcast('console_output', {'app': app_name, 'line': formatted_line})
            eventlet.sleep(0.01)
    finally:
        generator['running'] = False
        generator['finished_at'] = time.monotonic()


@app.route('/_test/generate', methods=['POST'])
def test_generate():
    data = body()
    if data.get('stop'):
        generator['stop'] = True
        return jsonify({'ok': True})
    app_name = data.get('app', 'insight')
    if app_name not in ENGINE_MODULES:
        return bad('unknown app')
    if generator['running']:
        return bad('a generator is already running')
    rate = float(data.get('rate', 5000))
    seconds = float(data.get('seconds', 10))
    generator.update(running=True, stop=False, app=app_name, written=0, target=int(rate * seconds),
                     started_at=time.monotonic(), finished_at=None)
    socketio.start_background_task(generate_lines, app_name, rate, seconds)
    return jsonify({'ok': True, 'target': generator['target']})


@app.route('/_test/generate_status')
def test_generate_status():
    started, finished = generator['started_at'], generator['finished_at']
    elapsed = None if started is None else (finished or time.monotonic()) - started
    return jsonify({'ok': True, 'running': generator['running'], 'app': generator['app'],
                    'written': generator['written'], 'target': generator['target'],
                    'elapsed': elapsed})


@app.route('/_test/state')
def test_state():
    return jsonify({'ok': True, 'mode': gate.mode, 'stall_after': gate.stall_after,
                    'emitted': gate.emitted, 'connected_clients': len(connected_clients)})


# ---------------------------------------------------------------------------


def main():
    global LOG_DIR, START_DELAY, FORUM_POLL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--logs-dir', required=True)
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--start-delay', type=float, default=0.5)
    parser.add_argument('--forum-poll', type=float, default=1.0)
    parser.add_argument('--ping-interval', type=float, default=None)
    parser.add_argument('--ping-timeout', type=float, default=None)
    args = parser.parse_args()

    LOG_DIR = Path(args.logs_dir).resolve()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    START_DELAY = args.start_delay
    FORUM_POLL = args.forum_poll

    options = {'async_mode': 'eventlet', 'cors_allowed_origins': '*'}
    if args.ping_interval is not None:
        options['ping_interval'] = args.ping_interval
    if args.ping_timeout is not None:
        options['ping_timeout'] = args.ping_timeout
    socketio.init_app(app, **options)

    def terminate(signum, frame):
        # Raising here would land in eventlet's hub; state lives in closed files.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)

    init_forum_log()
    socketio.start_background_task(monitor_forum_log)

    sock = eventlet.listen(('127.0.0.1', args.port))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    # Flask-SocketIO installed its middleware as app.wsgi_app; this is what
    # socketio.run() does for the eventlet mode.
    eventlet.wsgi.server(sock, app, log_output=False)
    return 0


if __name__ == '__main__':
    sys.exit(main())
