"""The stubs (python/alto/_alto.pyi) match the built module: the same names, the same
parameters (names, order, defaults), the same attributes and exception bases. Drift fails.
The stub's `TypedDict`s type the dicts some attributes hold; they are not the module's."""

import ast
import inspect
import pathlib
import sys

import alto
from alto import _alto

STUB = pathlib.Path(alto.__file__).with_name("_alto.pyi")


def _params(args: ast.arguments, drop_self: bool):
    out = []
    pos = args.posonlyargs + args.args
    defaults = [None] * (len(pos) - len(args.defaults)) + list(args.defaults)
    for a, d in zip(pos, defaults):
        out.append((a.arg, None if d is None else ast.literal_eval(d)))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append((a.arg, None if d is None else ast.literal_eval(d)))
    if args.vararg:
        out.append(("*" + args.vararg.arg, None))
    if args.kwarg:
        out.append(("**" + args.kwarg.arg, None))
    if drop_self and out and out[0][0] in ("self", "cls"):
        out = out[1:]
    return out


def _runtime_params(f):
    out = []
    for p in inspect.signature(f).parameters.values():
        name = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
        out.append((name, None if p.default is p.empty else p.default))
    if out and out[0][0] in ("self", "cls", "$self"):
        out = out[1:]
    return out


def _stub():
    tree = ast.parse(STUB.read_text())
    funcs, classes, names = {}, {}, set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            funcs[node.name] = _params(node.args, False)
        elif isinstance(node, ast.ClassDef):
            if any(getattr(b, "id", None) == "TypedDict" for b in node.bases):
                continue
            members = {}
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    decos = {getattr(d, "id", None) for d in item.decorator_list}
                    if "property" in decos:
                        members[item.name] = "property"
                    else:
                        members[item.name] = _params(item.args, "staticmethod" not in decos)
                elif isinstance(item, ast.AnnAssign):
                    members[item.target.id] = "attribute"
            bases = [b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases]
            classes[node.name] = (bases, members)
        elif isinstance(node, ast.AnnAssign) and not node.target.id.startswith("_Path"):
            names.add(node.target.id)
    return funcs, classes, names


def _public(name: str) -> bool:
    return not name.startswith("_") or name in ("__next__", "__version__")


def test_the_stub_names_what_the_module_has():
    funcs, classes, names = _stub()
    module = {n for n in dir(_alto) if _public(n)}
    assert module == set(funcs) | set(classes) | names
    assert set(alto.__all__) == module


def test_functions_take_what_the_stub_says():
    funcs, _, _ = _stub()
    for name, params in funcs.items():
        assert _runtime_params(getattr(_alto, name)) == params, name


def test_classes_have_what_the_stub_says():
    _, classes, _ = _stub()
    for name, (bases, members) in classes.items():
        cls = getattr(_alto, name)
        if issubclass(cls, BaseException):
            assert [b.__name__ for b in cls.__bases__] == bases, name
            for attr in members:
                assert hasattr(cls, attr), f"{name}.{attr}"
            continue
        own = {n for n in vars(cls) if _public(n) and not n.startswith("__")}
        if "__next__" in vars(cls):
            own.add("__next__")
        assert own == set(members), name
        for m, kind in members.items():
            value = inspect.getattr_static(cls, m)
            if kind == "property":
                assert inspect.isdatadescriptor(value), f"{name}.{m} is not a property"
            elif m != "__next__":
                assert not inspect.isdatadescriptor(value), f"{name}.{m} is a property"
                assert _runtime_params(getattr(cls, m)) == kind, f"{name}.{m}"


def test_the_stub_check_sees_drift(tmp_path, monkeypatch):
    """The check itself fails when a parameter is renamed in the stub."""
    text = STUB.read_text().replace("def tenant(self, name: str)", "def tenant(self, tenant_name: str)")
    assert text != STUB.read_text()
    fake = tmp_path / "_alto.pyi"
    fake.write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "STUB", fake)
    try:
        test_classes_have_what_the_stub_says()
    except AssertionError as e:
        assert "Alto.tenant" in str(e)
    else:
        raise AssertionError("a renamed parameter went unnoticed")
