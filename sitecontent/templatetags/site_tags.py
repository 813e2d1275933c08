from django import template

register = template.Library()


@register.filter
def nav_state(current_path: str, link: str) -> str:
    """aria-current for a navigation link: "page" on it, "true" anywhere below it."""
    if current_path == link:
        return "page"
    if link != "/" and current_path.startswith(link):
        return "true"
    return ""
