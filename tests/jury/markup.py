"""A small HTML tree for assertions on pages and fragments (standard library only)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    @property
    def id(self) -> str | None:
        return self.attrs.get("id")

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def elements(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node)]

    def walk(self) -> Iterator[Node]:
        for child in self.elements():
            yield child
            yield from child.walk()

    def text(self) -> str:
        """The visible text, whitespace collapsed (entities already decoded)."""
        parts: list[str] = []

        def collect(node: Node) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                elif child.tag not in ("script", "style", "template"):
                    collect(child)

        collect(self)
        return " ".join(" ".join(parts).split())

    def by_id(self, element_id: str) -> Node | None:
        return next((n for n in self.walk() if n.id == element_id), None)

    def select(self, tag: str | None = None, *, cls: str | None = None, **attrs) -> list[Node]:
        """Descendants by tag, class and exact attribute values (`name_` for `name`)."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            n
            for n in self.walk()
            if (tag is None or n.tag == tag)
            and (cls is None or cls in n.classes)
            and all(n.attrs.get(k) == v for k, v in wanted.items())
        ]

    def field(self, name: str) -> str | None:
        """The value of the form field `name` inside this element."""
        found = self.select("input", name_=name)
        return found[0].attrs.get("value") if found else None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(markup: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    return builder.root


def fragment_root(markup: str) -> Node:
    """The one element of an htmx fragment; fails if there is anything else beside it."""
    document = parse(markup)
    roots = document.elements()
    stray = "".join(c for c in document.children if isinstance(c, str)).strip()
    assert len(roots) == 1 and not stray, f"not a single-element fragment: {markup[:300]!r}"
    return roots[0]
