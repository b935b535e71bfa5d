/**
 * The Python runtime of the local stack: one execution environment per process, written to
 * `<dataDir>/lambda/runtime/python/bootstrap.py` when the service starts (a string here, so it ships
 * inside any bundle of this library) and run by the machine's python3.
 *
 * It follows the AWS Lambda Python runtime (aws-lambda-python-runtime-interface-client,
 * bootstrap.py and lambda_runtime_marshaller.py): handler `module.function` (dotted packages and
 * `dir/module` too), the same Runtime.* fault names and messages, the LambdaContext attributes,
 * `{errorMessage, errorType, requestId, stackTrace}` errors with the bootstrap's frames removed,
 * `[ERROR]` log lines, the logging handler's format, and results marshalled as its simplejson
 * encoder with `encoding='utf-8'` does: `bytes` anywhere become UTF-8 text, a top-level `bytes` is
 * returned raw, Decimal is written as its digits, namedtuples as objects, `ensure_ascii` off from
 * python3.12 on.
 *
 * boto3 older than 1.28 (botocore < 1.31) ignores AWS_ENDPOINT_URL: an import hook patches
 * `botocore.session.Session.create_client` to pass the stack's endpoint when the code gives none.
 */
export const PYTHON_BOOTSTRAP_SOURCE = String.raw`# scones local stack: AWS Lambda Python runtime for one execution environment. Generated file.
import json
import os
import struct
import sys
import threading
import time
import traceback

_CONTROL_FD = 3
_WRITE_LOCK = threading.Lock()
_REQUEST_ID = None
ERROR_LOG_LINE_TERMINATE = "\r"
ERROR_LOG_IDENT = "\u00a0"


def _write_frame(header, body=b""):
    head = json.dumps(header).encode("utf-8")
    view = memoryview(struct.pack(">II", len(head), len(body)) + head + body)
    with _WRITE_LOCK:
        while view:
            written = os.write(_CONTROL_FD, view)
            view = view[written:]


def _read_exact(size):
    chunks = []
    while size > 0:
        chunk = os.read(_CONTROL_FD, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_frame():
    prefix = _read_exact(8)
    if prefix is None:
        return None, None
    head_length, body_length = struct.unpack(">II", prefix)
    head = _read_exact(head_length)
    body = _read_exact(body_length) if body_length else b""
    if head is None or body is None:
        return None, None
    return json.loads(head), body


class _LogBytes(object):
    def __init__(self, stream):
        self._stream = stream

    def write(self, data):
        self._stream.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self):
        pass


class _LogStream(object):
    """sys.stdout / sys.stderr: every write is sent to the stack at once (AWS's Unbuffered)."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, name, fd):
        self.name = name
        self._fd = fd
        self.buffer = _LogBytes(self)

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        if text:
            _write_frame({"t": "log"}, text.encode("utf-8", "replace"))
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def fileno(self):
        return self._fd


def _log(text):
    _write_frame({"t": "log"}, text.encode("utf-8", "replace"))


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"

    def __init__(self, exception_type, msg, trace=None):
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


# ---- marshalling, as simplejson.JSONEncoder(encoding='utf-8', use_decimal=False) with the
# runtime's Decimal default -------------------------------------------------------------------

def _ensure_ascii():
    env = os.environ.get("AWS_EXECUTION_ENV", "")
    prefix = "AWS_Lambda_python3."
    if env.startswith(prefix):
        try:
            return int(env[len(prefix):]) < 12
        except ValueError:
            return True
    return True


_ENCODE_STRING = json.encoder.encode_basestring_ascii if _ensure_ascii() else json.encoder.encode_basestring


def _float_text(value):
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return float.__repr__(value)


def _is_decimal(value):
    decimal = sys.modules.get("decimal")
    return decimal is not None and isinstance(value, decimal.Decimal)


def _key_text(key):
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        return key.decode("utf-8")
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return _float_text(key)
    raise TypeError("keys must be str, int, float, bool or None, not %s" % key.__class__.__name__)


def _encode(value, parts, markers):
    if isinstance(value, str):
        parts.append(_ENCODE_STRING(value))
    elif isinstance(value, bytes):
        parts.append(_ENCODE_STRING(value.decode("utf-8")))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        parts.append(_float_text(value))
    elif isinstance(value, list):
        _encode_list(value, parts, markers)
    else:
        as_dict = getattr(value, "_asdict", None)
        if as_dict is not None and callable(as_dict):
            mapping = as_dict()
            if not isinstance(mapping, dict):
                raise TypeError("_asdict() must return a dict, not %s" % type(mapping).__name__)
            _encode_dict(mapping, parts, markers, value)
        elif isinstance(value, tuple):
            _encode_list(value, parts, markers)
        elif isinstance(value, dict):
            _encode_dict(value, parts, markers, value)
        elif _is_decimal(value):
            parts.append("NaN" if value.is_nan() else str(value))
        else:
            raise TypeError("Object of type %s is not JSON serializable" % value.__class__.__name__)


def _enter(container, markers):
    marker = id(container)
    if marker in markers:
        raise ValueError("Circular reference detected")
    markers[marker] = container
    return marker


def _encode_list(items, parts, markers):
    if not items:
        parts.append("[]")
        return
    marker = _enter(items, markers)
    parts.append("[")
    first = True
    for item in items:
        if not first:
            parts.append(", ")
        first = False
        _encode(item, parts, markers)
    parts.append("]")
    del markers[marker]


def _encode_dict(mapping, parts, markers, owner):
    if not mapping:
        parts.append("{}")
        return
    marker = _enter(owner, markers)
    parts.append("{")
    first = True
    for key, item in mapping.items():
        if not first:
            parts.append(", ")
        first = False
        parts.append(_ENCODE_STRING(_key_text(key)))
        parts.append(": ")
        _encode(item, parts, markers)
    parts.append("}")
    del markers[marker]


def to_json(value):
    parts = []
    _encode(value, parts, {})
    return "".join(parts)


def _marshal_response(response):
    if isinstance(response, bytes):
        return response, "application/unknown"
    try:
        return to_json(response).encode("utf-8", "surrogatepass"), "application/json"
    except Exception as error:
        raise FaultException(FaultException.MARSHAL_ERROR, "Unable to marshal response: {}".format(str(error)), None)


# ---- the handler ------------------------------------------------------------------------------

def _get_handler(handler):
    import importlib

    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as error:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME, "Bad handler '{}': {}".format(handler, str(error)))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(FaultException.BUILT_IN_MODULE_CONFLICT, "Cannot use built-in module {} as a handler module".format(modname))
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as error:
        raise FaultException(FaultException.IMPORT_MODULE_ERROR, "Unable to import module '{}': {}".format(modname, str(error)))
    except SyntaxError as error:
        trace = ['  File "%s" Line %s\n    %s' % (error.filename, error.lineno, error.text)]
        raise FaultException(FaultException.USER_CODE_SYNTAX_ERROR, "Syntax error in module '{}': {}".format(modname, str(error)), trace)
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(FaultException.HANDLER_NOT_FOUND, "Handler '{}' missing on module '{}'".format(fname, modname), None)


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _user_frames(tb):
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for index in range(len(frames)):
        if "/bootstrap.py" not in frames[index][0]:
            return frames[index:]
    return frames


def _fault_result(exc_info, invoke_id=None):
    error_type, value, tb = exc_info
    return make_error(str(value), error_type.__name__, traceback.format_list(_user_frames(tb)), invoke_id)


def _replace_indentation(line):
    count = len(line) - len(line.lstrip(" "))
    return ERROR_LOG_IDENT * count + line[count:]


def _log_error(error_result):
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON":
        record = dict(timestamp=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), level="ERROR")
        record.update(error_result)
        _log(to_json(record) + "\n")
        return
    description = "[ERROR]"
    if error_result.get("errorType"):
        description += " " + error_result["errorType"]
    if error_result.get("errorMessage"):
        if error_result.get("errorType"):
            description += ":"
        description += " " + error_result["errorMessage"]
    lines = [description]
    stack_trace = error_result.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            if element == "":
                lines.append("")
            else:
                lines.extend(_replace_indentation(line) for line in element.splitlines())
    _log(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


class _ClientContext(object):
    __slots__ = ["custom", "env", "client"]


class _Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class _CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


def _object_from(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field))
    return obj


class LambdaContext(object):
    def __init__(self, invoke_id, client_context, epoch_deadline_time_in_ms, invoked_function_arn):
        self.aws_request_id = invoke_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = None
        self.client_context = _object_from(_ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _object_from(_Client, self.client_context.client)
        self.identity = _object_from(_CognitoIdentity, {})
        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        remaining = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg):
        _log(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id={},log_group_name={},log_stream_name={},function_name={},"
            "memory_limit_in_mb={},function_version={},invoked_function_arn={},client_context={},identity={}])"
        ).format(self.aws_request_id, self.log_group_name, self.log_stream_name, self.function_name,
                 self.memory_limit_in_mb, self.function_version, self.invoked_function_arn,
                 self.client_context, self.identity)


def _setup_logging():
    import logging

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            _log(self.format(record))

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _REQUEST_ID or ""
            return True

    class JsonFormatter(logging.Formatter):
        def format(self, record):
            entry = {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
                "level": record.levelname,
                "message": record.getMessage(),
                "logger": record.name,
                "requestId": getattr(record, "aws_request_id", ""),
            }
            if record.exc_info:
                entry["errorType"] = record.exc_info[0].__name__
                entry["errorMessage"] = str(record.exc_info[1])
                entry["stackTrace"] = traceback.format_tb(record.exc_info[2])
            return json.dumps(entry, default=str) + "\n"

    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON":
        handler.setFormatter(JsonFormatter())
        level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
        if level:
            logging.getLogger().setLevel({"TRACE": "DEBUG", "FATAL": "CRITICAL", "WARN": "WARNING"}.get(level, level))
    else:
        handler.setFormatter(logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(LambdaLoggerFilter())
    logging.getLogger().addHandler(handler)


# ---- boto3 < 1.28: give every client the stack's endpoint --------------------------------------

_SERVICE_ALIASES = {"runtime.sagemaker": "sagemaker-runtime"}


def _endpoint_for(service_name):
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return None
    name = _SERVICE_ALIASES.get(service_name, service_name)
    specific = "AWS_ENDPOINT_URL_" + name.upper().replace("-", "_").replace(".", "_").replace(" ", "_")
    return os.environ.get(specific) or os.environ.get("AWS_ENDPOINT_URL")


def _patch_botocore_session(module):
    try:
        import botocore

        version = tuple(int(part) for part in botocore.__version__.split(".")[:2])
    except Exception:
        return
    if version >= (1, 31):
        return  # honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> itself
    original = module.Session.create_client

    def create_client(self, service_name, *args, **kwargs):
        # endpoint_url is create_client's sixth parameter; a caller that passed it positionally chose it.
        if len(args) < 5 and kwargs.get("endpoint_url") is None:
            endpoint = _endpoint_for(service_name)
            if endpoint:
                kwargs["endpoint_url"] = endpoint
        return original(self, service_name, *args, **kwargs)

    create_client.__wrapped__ = original
    module.Session.create_client = create_client


class _BotocoreSessionHook(object):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "botocore.session":
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        original_exec = loader.exec_module

        def exec_module(module):
            original_exec(module)
            _patch_botocore_session(module)

        loader.exec_module = exec_module
        return spec


def _private_tmp(private):
    """Lambda gives every execution environment its own /tmp. Environments here share the
    machine's, so paths under /tmp are redirected to this environment's own directory: the
    course's serialize function writes /tmp/image.png, and concurrent executions would otherwise
    read each other's images. Covers open() and the os functions that name files (which os.path,
    shutil, tempfile, glob, pathlib and boto3's downloads use); not native code or subprocesses
    (they get TMPDIR). What really lives under /tmp is left alone: this directory itself, the
    stack's data directory (the function's code is there) and the interpreter's own files."""
    import builtins
    import functools
    import io

    keep = [private, os.environ.get("SCONES_STACK_DATA_DIR", ""), sys.prefix, sys.base_prefix, sys.exec_prefix] + list(sys.path)
    keep = sorted({os.path.normpath(p) for p in keep if p and os.path.isabs(p) and os.path.normpath(p).startswith("/tmp/")})

    def redirected(text):
        if text != "/tmp" and not text.startswith("/tmp/"):
            return None
        normal = os.path.normpath(text)
        for root in keep:
            if normal == root or normal.startswith(root + "/"):
                return None
        return private + text[4:]

    def mapped(path):
        if isinstance(path, str):
            text = path
        elif isinstance(path, bytes) or hasattr(path, "__fspath__"):
            text = os.fspath(path)
        else:
            return path
        if isinstance(text, bytes):
            try:
                target = redirected(os.fsdecode(text))
            except Exception:
                return path
            return path if target is None else os.fsencode(target)
        target = redirected(text)
        return path if target is None else target

    def redirect(function, count):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if args:
                args = tuple(mapped(a) if i < count else a for i, a in enumerate(args))
            for key in ("file", "path", "src", "dst"):
                if key in kwargs:
                    kwargs[key] = mapped(kwargs[key])
            return function(*args, **kwargs)

        return wrapper

    for name in ("open", "stat", "lstat", "access", "chmod", "chown", "listdir", "scandir", "mkdir", "rmdir",
                 "remove", "unlink", "utime", "truncate", "readlink", "chdir", "mkfifo", "statvfs", "pathconf"):
        if hasattr(os, name):
            setattr(os, name, redirect(getattr(os, name), 1))
    for name in ("rename", "replace", "link", "symlink"):
        if hasattr(os, name):
            setattr(os, name, redirect(getattr(os, name), 2))
    builtins.open = io.open = redirect(io.open, 1)


def _watch_parent(parent):
    # The stack died while a handler runs (the control channel is read only between invocations).
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(70)


def _memory_mb():
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    except Exception:
        return 0


def main():
    global _REQUEST_ID
    started = time.time()
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    os.chdir(task_root)
    sys.path[0:1] = [task_root]
    sys.stdout = _LogStream("<stdout>", 1)
    sys.stderr = _LogStream("<stderr>", 2)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    if os.environ.get("SCONES_LAMBDA_TMP"):
        _private_tmp(os.environ["SCONES_LAMBDA_TMP"])
    if os.environ.get("AWS_ENDPOINT_URL"):
        sys.meta_path.insert(0, _BotocoreSessionHook())
    try:
        _setup_logging()
        request_handler = _get_handler(os.environ["_HANDLER"])
    except Exception as error:
        if isinstance(error, FaultException):
            error_result = make_error(error.msg, error.exception_type, error.trace)
        else:
            error_result = _fault_result(sys.exc_info())
        _log_error(error_result)
        _write_frame({"t": "initError", "initMs": (time.time() - started) * 1000}, to_json(error_result).encode("utf-8"))
        return 1
    _write_frame({"t": "ready", "initMs": (time.time() - started) * 1000})

    while True:
        header, body = _read_frame()
        if header is None:
            return 0
        if header.get("t") != "invoke":
            continue
        invoke_id = header["id"]
        _REQUEST_ID = invoke_id
        error_result = None
        try:
            context = LambdaContext(invoke_id, header.get("clientContext"), header["deadlineMs"], header["arn"])
            try:
                event = json.loads(body)
            except Exception as error:
                raise FaultException(FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(str(error)), None)
            response = request_handler(event, context)
            result, content_type = _marshal_response(response)
        except FaultException as error:
            error_result = make_error(error.msg, error.exception_type, error.trace, invoke_id)
        except Exception:
            error_result = _fault_result(sys.exc_info(), invoke_id)
        if error_result is not None:
            _log_error(error_result)
            _write_frame({"t": "error", "memMb": _memory_mb()}, to_json(error_result).encode("utf-8"))
        else:
            _write_frame({"t": "result", "ct": content_type, "memMb": _memory_mb()}, result)
        _REQUEST_ID = None


if __name__ == "__main__":
    sys.exit(main())
`;
