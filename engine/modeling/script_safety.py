"""What a BPMN/DMN expression or script may contain: an AST allow-list checked before anything runs.

SpiffWorkflow evaluates scripts, gateway conditions, timer expressions and DMN entries with Python's ``eval`` and
``exec`` and the full builtins. A model is data a process owner uploads, so before it is deployed or dry-run every
piece of code in it must be plain data handling: no imports, no dunder access, no calls except the engine's helper
functions (:mod:`engine.workflow.scripting`), a few harmless builtins and methods of the data itself.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from typing import Literal

#: The functions :func:`engine.workflow.scripting.script_functions` gives scripts (kept in step by a unit test).
HELPER_FUNCTIONS = frozenset({"add_workdays", "is_workday", "workdays_between", "today", "conference_start"})
ALLOWED_BUILTINS = frozenset({
    "len", "min", "max", "sum", "any", "all", "sorted", "str", "int", "float", "bool", "list", "dict", "set",
    "tuple", "range", "round", "abs", "enumerate", "zip",
})
CALLABLE = HELPER_FUNCTIONS | ALLOWED_BUILTINS
#: Builtins that reach the interpreter, the file system or other objects' insides: refused even without a call.
FORBIDDEN_NAMES = frozenset({
    "open", "exec", "eval", "compile", "__import__", "getattr", "setattr", "delattr", "hasattr", "globals",
    "locals", "vars", "dir", "input", "breakpoint", "help", "exit", "quit", "type", "object", "super",
    "memoryview", "classmethod", "staticmethod", "property", "print", "id", "callable", "issubclass",
})
#: ``"{0.__class__}".format(x)`` reads attributes by name, past the AST check.
FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "mro"})

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.If, ast.For, ast.Break,
    ast.Continue, ast.Pass, ast.Delete,
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword, ast.Starred,
    ast.Name, ast.Attribute, ast.Subscript, ast.Slice, ast.Constant, ast.JoinedStr, ast.FormattedValue,
    ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
    ast.comprehension, ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop,
)
_NODE_NAMES = {
    ast.Import: "import", ast.ImportFrom: "import", ast.FunctionDef: "def", ast.AsyncFunctionDef: "def",
    ast.ClassDef: "class", ast.Lambda: "lambda", ast.While: "while 循环", ast.Try: "try", ast.With: "with",
    ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Raise: "raise", ast.Return: "return",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Await: "await", ast.NamedExpr: ":=", ast.Assert: "assert",
}

Mode = Literal["eval", "exec"]


def code_problems(source: str, mode: Mode, what: str) -> list[str]:
    """Return Chinese messages for everything wrong with one expression (``eval``) or script (``exec``).

    ``what`` names the code in the messages, e.g. ``"条件表达式"`` or ``"脚本"``. An empty list means the code
    compiles and stays within the allow-list.
    """
    try:
        compile(source, f"<{what}>", mode)
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        return [syntax_message(exc, what)]
    except (ValueError, MemoryError, RecursionError) as exc:
        return [f"{what}无法编译：{exc}"]
    found: list[str] = []
    for message in _problems_in(tree):
        if message not in found:
            found.append(message)
    return [f"{what}不安全：{message}" for message in found]


def _problems_in(node: ast.AST) -> Iterator[str]:
    message = _node_problem(node)
    if message:
        yield message
    if isinstance(node, _ALLOWED_NODES):  # inside a refused construct (an import, a def) one message is enough
        for child in ast.iter_child_nodes(node):
            yield from _problems_in(child)


def syntax_message(exc: SyntaxError, what: str) -> str:
    """Describe a SyntaxError the way a process owner reads it."""
    where = f"第 {exc.lineno} 行" if exc.lineno else ""
    if exc.offset:
        where += f"第 {exc.offset} 列"
    reason = next((text for key, text in _SYNTAX_REASONS.items() if key in (exc.msg or "")), exc.msg or "")
    return f"{what}语法错误（{where}）：{reason}" if where else f"{what}语法错误：{reason}"


_SYNTAX_REASONS = {
    "invalid syntax": "无效的语法",
    "unterminated string literal": "字符串缺少结束引号",
    "unexpected EOF while parsing": "表达式不完整",
    "unexpected indent": "缩进不正确",
    "expected an indented block": "缺少缩进的代码块",
    "invalid decimal literal": "数字写法无效",
    "expected ':'": "缺少冒号",
    "cannot assign to literal": "不能给常量赋值",
    "was never closed": "括号没有闭合",
    "unmatched": "括号不匹配",
}


def _node_problem(node: ast.AST) -> str | None:
    if not isinstance(node, _ALLOWED_NODES):
        keyword = next((name for cls, name in _NODE_NAMES.items() if isinstance(node, cls)), type(node).__name__)
        return f"不允许使用 {keyword}"
    if isinstance(node, ast.Name):
        return _name_problem(node.id)
    if isinstance(node, ast.Attribute):
        return _attribute_problem(node.attr)
    if isinstance(node, ast.Call):
        return _call_problem(node.func)
    if isinstance(node, ast.keyword) and node.arg and node.arg.startswith("__"):
        return f"不允许使用双下划线名称 {node.arg}"
    return None


def _name_problem(name: str) -> str | None:
    if name.startswith("__"):
        return f"不允许使用双下划线名称 {name}"
    if name in FORBIDDEN_NAMES:
        return f"不允许使用 {name}"
    return None


def _attribute_problem(attr: str) -> str | None:
    if attr.startswith("_"):
        return f"不允许访问以下划线开头的属性 .{attr}"
    if attr in FORBIDDEN_ATTRIBUTES:
        return f"不允许使用 .{attr}"
    return None


def _call_problem(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return None  # a method of the data itself (``.get``, ``.strip``): its name is checked as an attribute
    if isinstance(func, ast.Name):
        if func.id in CALLABLE or func.id in FORBIDDEN_NAMES or func.id.startswith("__"):
            return None  # allowed, or already reported by the name check
        kind = "内置函数" if hasattr(builtins, func.id) else "函数"
        return f"不允许调用{kind} {func.id}（只能调用 {'、'.join(sorted(HELPER_FUNCTIONS))} 和常用内置函数）"
    return "只能直接按名称调用函数"
