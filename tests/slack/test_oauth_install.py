"""Multi-workspace distribution: a workspace installs Cubby through /slack/install, Cubby keeps that
workspace's bot token in its installation store, and the workspace is then served with it."""

from html import unescape
from urllib.parse import parse_qs, urlparse

from core import Settings
from tests.loopback.slack_harness import Person, SlackHarness

from .conftest import stored_bot

NEWCOMER = Person("U0NEWBIE", "T0NEW")


async def install_through_oauth(slack: SlackHarness, team: str) -> tuple[int, str]:
    async with slack.session.get(f"{slack.url}/slack/install") as page:
        assert page.status == 200
        page_html = await page.text()
        state = page.cookies["slack-app-oauth-state"].value  # a Secure cookie: forwarded by hand
    assert f"{slack.fake.url}/oauth/v2/authorize?" in page_html  # the authorize link follows SLACK_API_URL
    authorize_link = unescape(page_html.split('<a href="', 1)[1].split('"', 1)[0])
    query = parse_qs(urlparse(authorize_link).query)
    assert query["state"] == [state] and query["client_id"] == ["111.222"]
    assert set(query["scope"][0].split(",")) >= {"commands", "chat:write", "im:history"}

    callback = f"{slack.url}/slack/oauth_redirect?code={team}&state={state}"
    async with slack.session.get(callback, headers={"Cookie": f"slack-app-oauth-state={state}"}) as done:
        return done.status, await done.text()


async def test_a_workspace_installs_through_oauth_and_is_then_served_with_its_own_token(
    slack_many: SlackHarness, oauth_settings: Settings
) -> None:
    status, _ = await install_through_oauth(slack_many, NEWCOMER.team)

    assert status == 200
    [exchange] = slack_many.fake.calls_to("oauth.v2.access")
    assert exchange.params["code"] == NEWCOMER.team
    bot = await stored_bot(oauth_settings, NEWCOMER)
    assert bot is not None and bot.bot_token == f"xoxb-{NEWCOMER.team}"

    reply = await slack_many.dm(NEWCOMER, "hello")
    assert reply.token == f"xoxb-{NEWCOMER.team}"


async def test_an_install_callback_without_the_state_cookie_installs_nothing(
    slack_many: SlackHarness, oauth_settings: Settings
) -> None:
    async with slack_many.session.get(f"{slack_many.url}/slack/install") as page:
        state = page.cookies["slack-app-oauth-state"].value

    callback = f"{slack_many.url}/slack/oauth_redirect?code={NEWCOMER.team}&state={state}"
    async with slack_many.session.get(callback) as done:
        assert done.status >= 400

    assert slack_many.fake.calls_to("oauth.v2.access") == []
    assert await stored_bot(oauth_settings, NEWCOMER) is None
