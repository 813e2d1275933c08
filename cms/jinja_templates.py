"""Which templates are Jinja2's: the public site's ``templates/**/*.jinja``
(sitecontent.public.templating builds their environment). Here, in the project
package, because the package build and SnapStart's init need the list too."""

from pathlib import Path

TEMPLATE_SUFFIX = ".jinja"
# templates/compiled/: the templates as Python modules, written by the Lambda package's
# build only (cms.lambda_build runs templating.compile_templates), never in a working tree.
COMPILED_DIR = "compiled"


def template_names(templates: Path) -> list[str]:
    """Every Jinja2 template under ``templates``, by the name views load it by: what the
    package build compiles and SnapStart's init loads, so neither can miss one added
    later."""
    return sorted(
        path.relative_to(templates).as_posix()
        for path in templates.rglob(f"*{TEMPLATE_SUFFIX}")
        if path.relative_to(templates).parts[0] != COMPILED_DIR
    )
