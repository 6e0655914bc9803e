"""export_users and users list/create: exact output, streamed in chunks (query count), refusals change nothing."""

import io
import json

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from accounts.models import Membership, Organization, Role, User
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_export_users_json_is_every_user_with_memberships():
    org = OrganizationFactory(slug="acme", name="Acme")
    ann = MembershipFactory(user__email="ann@example.com", organization=org, role=Role.ADMIN).user
    bob = UserFactory(email="bob@example.com", is_staff=True)

    out, err = run("export_users", "--format", "json")

    rows = json.loads(out)
    assert [r["email"] for r in rows] == ["ann@example.com", "bob@example.com"]
    assert rows[0]["id"] == ann.pk and rows[1]["id"] == bob.pk
    assert rows[0]["memberships"] == [{"organization": "acme", "organization_name": "Acme", "role": "admin"}]
    assert rows[1]["memberships"] == [] and rows[1]["is_staff"] is True
    assert rows[0]["date_joined"] == ann.date_joined.isoformat()
    assert err == ""  # quiet in a pipe: no progress bar


def test_export_users_csv_to_a_file(tmp_path):
    org = OrganizationFactory(slug="acme")
    MembershipFactory(user__email="ann@example.com", organization=org, role=Role.SELLER)
    target = tmp_path / "users.csv"

    out, err = run("export_users", "--format", "csv", "-o", str(target))

    lines = target.read_text().splitlines()
    header = "id,email,is_active,is_staff,is_superuser,date_joined,last_login,display_name,company,memberships"
    assert lines[0] == header
    assert lines[1].split(",")[1] == "ann@example.com" and lines[1].endswith(",acme:seller")
    assert len(lines) == 2
    assert out == "" and err == f"1 users written to {target}\n"


@pytest.mark.parametrize("users", [3, 12])
def test_export_users_reads_in_chunks_whatever_the_number_of_rows(django_assert_num_queries, users):
    """Constant memory: the users come through an iterator, one query per chunk plus one for its memberships."""
    for _ in range(users):
        MembershipFactory()
    with django_assert_num_queries(2):  # 2000 per chunk: the users, then their memberships
        out, _ = run("export_users", "--format", "json")
    assert len(json.loads(out)) == users
    chunks = -(-users // 5)
    with django_assert_num_queries(1 + chunks):  # one streamed SELECT, one memberships query per 5 users
        run("export_users", "--format", "json", "--chunk-size", "5")


def test_users_list_filters_by_role_and_organization():
    acme, other = OrganizationFactory(slug="acme"), OrganizationFactory(slug="other")
    MembershipFactory(user__email="seller@example.com", organization=acme, role=Role.SELLER)
    MembershipFactory(user__email="buyer@example.com", organization=acme, role=Role.BUYER)
    # A seller elsewhere and a buyer in acme: not "a seller in acme".
    both = MembershipFactory(user__email="both@example.com", organization=other, role=Role.SELLER).user
    MembershipFactory(user=both, organization=acme, role=Role.BUYER)

    out, err = run("users", "list", "--org", "acme", "--role", "seller")
    assert out.splitlines()[1:] == [f"{User.objects.get(email='seller@example.com').pk:>6}  {'seller@example.com':<40} no    acme:seller"]  # noqa: E501
    assert err == "1 users\n"

    out, _ = run("users", "list", "--org", "acme")
    assert [line.split()[1] for line in out.splitlines()[1:]] == ["seller@example.com", "buyer@example.com", "both@example.com"]  # noqa: E501
    out, _ = run("users", "list", "--role", "seller")
    assert [line.split()[1] for line in out.splitlines()[1:]] == ["seller@example.com", "both@example.com"]


def test_users_create_with_flags_gives_what_sign_up_gives_and_the_membership():
    acme = OrganizationFactory(slug="acme")
    out, _ = run(
        "users", "create", "--email", "New@Example.com", "--org", "acme", "--role", "seller", "--staff", "--no-input"
    )
    user = User.objects.get(email="new@example.com")
    assert out.splitlines() == [
        f"created new@example.com (id {user.pk}, staff, seller in acme)",
        "No password set: they choose one through 'forgot password' on the login page.",
    ]
    assert user.is_staff and not user.has_usable_password()
    assert Membership.objects.get(user=user, organization=acme).role == "seller"
    assert Organization.objects.filter(slug=f"personal-{user.pk}", memberships__user=user).exists()
    assert EmailAddress.objects.get(user=user).verified


def test_users_create_refusals_change_nothing():
    UserFactory(email="taken@example.com")
    before = (User.objects.count(), Membership.objects.count(), Organization.objects.count())
    with pytest.raises(CommandError, match="taken@example.com already has an account; nothing was changed"):
        run("users", "create", "--email", "taken@example.com", "--no-input")
    with pytest.raises(CommandError, match="no organization 'nope'; nothing was changed"):
        run("users", "create", "--email", "x@example.com", "--org", "nope", "--no-input")
    with pytest.raises(CommandError, match="a valid --email is needed"):
        run("users", "create", "--no-input")
    assert (User.objects.count(), Membership.objects.count(), Organization.objects.count()) == before


def test_users_create_asks_for_what_the_flags_do_not_give(monkeypatch):
    OrganizationFactory(slug="acme")
    answers = iter(["asked@example.com", "acme", "admin", "n"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt: "a long enough passphrase 42")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)

    out, _ = run("users", "create")

    user = User.objects.get(email="asked@example.com")
    assert out == f"created asked@example.com (id {user.pk}, admin in acme)\n"
    assert user.check_password("a long enough passphrase 42") and not user.is_staff
