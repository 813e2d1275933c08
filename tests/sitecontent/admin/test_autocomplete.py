"""The article form's autocomplete fields answer (their querysets are ordered: the
autocomplete view pages them, and the tests turn an unordered page into an error)."""

import pytest

from tests.factories import CategoryFactory, TagFactory, editor

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["category", "tags"])
def test_the_article_forms_autocompletes_list_choices_in_name_order(client, field):
    factory = CategoryFactory if field == "category" else TagFactory
    for name in ("Weather", "Arts", "Sport"):
        factory(name=name)
    client.force_login(editor())
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "sitecontent", "model_name": "article", "field_name": field, "term": ""},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Arts", "Sport", "Weather"]
