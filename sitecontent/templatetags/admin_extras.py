from django import template

from sitecontent.publishing import selectors

register = template.Library()


@register.simple_tag
def upcoming_changes(days=7):
    return selectors.upcoming_changes(days=days)
