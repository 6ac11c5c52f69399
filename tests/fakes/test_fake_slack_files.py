"""The fake Slack's files: file objects on message events, the file host's token check and redirects,
and FileHost recording what it is sent."""

from __future__ import annotations

import aiohttp

from fakes.slack import FakeSlack, FileHost, mention

PNG = b"\x89PNG\r\n\x1a\n" + bytes(8)


async def test_a_shared_file_is_served_with_the_token_and_a_sign_in_page_without(
    fake_slack: FakeSlack,
) -> None:
    alice = fake_slack.add_user(name="alice")
    file = fake_slack.upload(alice.id, "a.png", PNG, "image/png")
    post = fake_slack.post_as_user(fake_slack.general.id, alice.id, f"{mention()} look", files=[file])
    shared = post.message_event["files"][0]
    assert post.message_event["subtype"] == "file_share"
    assert post.event["files"][0]["url_private"] == shared["url_private"]  # app_mention carries them too
    assert (shared["name"], shared["mimetype"], shared["size"], shared["filetype"]) == (
        "a.png",
        "image/png",
        16,
        "png",
    )
    async with aiohttp.ClientSession() as session:
        token = {"Authorization": f"Bearer {fake_slack.bot_token}"}
        async with session.get(shared["url_private_download"], headers=token) as response:
            assert (response.status, await response.read()) == (200, PNG)
        async with session.get(shared["url_private"]) as response:
            assert response.content_type == "text/html" and "Sign in" in await response.text()
        async with FileHost(fake_slack.files) as cdn:
            fake_slack.redirect_files(cdn.base_url)
            async with session.get(shared["url_private"], headers=token, allow_redirects=False) as response:
                assert response.status == 302
                assert response.headers["Location"].startswith(f"{cdn.base_url}/files-tmb/")
            async with session.get(response.headers["Location"], headers={"Authorization": "x"}) as served:
                assert await served.read() == PNG
            assert cdn.authorizations == ["x"]
    assert [r.authorization for r in fake_slack.file_requests] == [
        token["Authorization"],
        None,
        token["Authorization"],
    ]
    history = await fake_slack.client().conversations_history(channel=fake_slack.general.id)
    assert history["messages"][0]["files"][0]["id"] == file.id
