"""course.toml that tomllib refused, told the way an instructor can fix it."""

from __future__ import annotations

import re
import tomllib

from grader.errors import CourseError

__all__ = ["toml_error"]

_DECIMAL_COMMA = re.compile(r"(?<![\w.])-?\d+,\d")
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def toml_error(exc: tomllib.TOMLDecodeError, text: str) -> CourseError:
    """A course.toml that tomllib refused, as an error that shows the line and says what is
    likely wrong with it: tomllib's own message ("Invalid value (at line 4, column 9)") names
    neither the key nor the fix. The commonest slips are a decimal comma (``0,3``, as a
    Romanian or German keyboard writes it), text without quotes and a key given twice."""
    message = str(exc)
    at = _TOML_AT.search(message)
    lines = text.splitlines()
    if not at or not 1 <= int(at.group(1)) <= len(lines):
        return CourseError(f"course.toml is not valid TOML: {message}",
                           hint="check quotes, brackets and '=' on the line shown")
    number, column = int(at.group(1)), int(at.group(2))
    line = lines[number - 1]
    what = message[:at.start()].strip()
    value = line.split("=", 1)[1] if "=" in line else line
    if _DECIMAL_COMMA.search(value.split("#", 1)[0]) and '"' not in value:
        hint = ("write decimals with a point (0.3, not 0,3): TOML reads a comma as the end "
                "of a value")
    elif what.startswith("Cannot overwrite") or what.startswith("Cannot declare"):
        hint = "this key or table is given twice: keep one of them"
    elif what == "Invalid value" and re.match(r"\s*(true|false)\b", value, re.IGNORECASE):
        hint = "write true or false in lower case"
    elif what == "Invalid value" and re.match(r"\s*[^\W\d]", value):
        hint = 'put text in double quotes, e.g. name = "digits 2026"'
    else:
        hint = "check quotes, brackets and '=' on the line shown"
    # file:line:column, as editors take it (a caret under the line would not stay aligned:
    # the problem is indented differently where it is listed with others)
    return CourseError(f"course.toml is not valid TOML at line {number}: {what}",
                       problems=[f"course.toml:{number}:{column}  {line.strip()}"], hint=hint)
