"""Telegram handlers: flat coroutines, one per kind of update. Each message gets one reply."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from concurrent.futures import Future
from dataclasses import replace
from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatType, MessageEntityType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    NetworkError,
    TelegramError,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import __version__, callbacks, texts
from bot.answering import Answer, answer
from bot.moderation import recent_line, stats_text
from bot.querylog import QueryLog
from bot.render import (
    EXAMPLE_CHARS,
    TELEGRAM_LIMIT,
    attribution_of,
    context_html,
    passage_html,
    shorten,
    sources_html,
    to_html,
)
from bot.state import BotState, Shown
from bot.texts import text as say
from index.search import SearchResult
from index.store import CARD_PARAGRAPH, REBUILD_HINT

logger = logging.getLogger(__name__)

MORE_LIMIT = 12  # "More" pages through at most this many passages
INLINE_RESULTS = 5
FORGET_WAIT = 10.0  # seconds /forget waits for a busy log before saying "not yet, try again"


def state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.bot_data["state"]


def lang_of(update: Update) -> str:
    """The language of whoever sent `update` (Telegram's language_code; English by default)."""
    user = update.effective_user
    return texts.language(user.language_code if user else None)


def register(application: Application) -> None:
    """Attach every handler to `application`."""
    new_messages = filters.UpdateType.MESSAGE  # edited messages are ignored
    application.add_handler(CommandHandler("start", start, filters=new_messages))
    application.add_handler(CommandHandler("help", help_command, filters=new_messages))
    application.add_handler(CommandHandler("sources", sources, filters=new_messages))
    application.add_handler(CommandHandler("about", about, filters=new_messages))
    application.add_handler(CommandHandler("forget", forget, filters=new_messages))
    application.add_handler(CommandHandler("stats", stats, filters=new_messages))
    application.add_handler(CommandHandler("recent", recent, filters=new_messages))
    application.add_handler(CommandHandler("reload", reload, filters=new_messages))
    application.add_handler(
        MessageHandler(new_messages & filters.COMMAND & filters.ChatType.PRIVATE, unknown_command)
    )
    application.add_handler(
        MessageHandler(new_messages & filters.TEXT & ~filters.COMMAND, question)
    )
    application.add_handler(MessageHandler(new_messages & ~filters.TEXT, not_text))
    application.add_handler(CallbackQueryHandler(button))
    application.add_handler(InlineQueryHandler(inline_query))
    application.add_handler(ChosenInlineResultHandler(chosen_inline_result))
    application.add_handler(TypeHandler(Update, handled), group=1)  # after the reply
    application.add_error_handler(error_handler)


def example(context: ContextTypes.DEFAULT_TYPE, lang: str) -> str:
    """The archive's first example question in `lang` (English when it has none in `lang`)."""
    examples = state(context).examples(lang)
    return shorten(examples[0], EXAMPLE_CHARS) if examples else "Who was the French ambassador?"


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot is, what the archive holds, how to ask, and what is kept."""
    lang = lang_of(update)
    bot_state = state(context)
    manifest = bot_state.searcher.store.manifest if bot_state.searcher else {}
    if bot_state.log is None:
        privacy = say(lang, "privacy_not_logged")
    else:
        privacy = say(lang, "privacy_logged", count=bot_state.retention_days)
    text = say(
        lang,
        "start",
        documents=say(lang, "count_documents", count=manifest.get("documents", 0)),
        passages=say(lang, "count_passages", count=manifest.get("passages", 0)),
        example=example(context, lang),
        privacy=privacy,
    )
    await update.effective_message.reply_text(text)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands and tips."""
    lang = lang_of(update)
    question = example(context, lang)
    question += "" if question.endswith(("?", "!", ".")) else "."  # a sentence follows it
    text = say(lang, "help", example=question, username=context.bot.username)
    await update.effective_message.reply_text(text)


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the archive's documents with title, author, date, language and passage count."""
    lang = lang_of(update)
    searcher = state(context).searcher
    if searcher is None:
        await update.effective_message.reply_text(say(lang, "loading"))
        return
    await update.effective_message.reply_text(sources_html(searcher.store.documents(), lang))


async def about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Give the version and how answers are made."""
    bot_state = state(context)
    searcher = bot_state.searcher
    lang = lang_of(update)
    await update.effective_message.reply_text(
        say(
            lang,
            "about",
            version=__version__,
            model=searcher.embedder.name if searcher else bot_state.model,
            built=texts.date_time(lang, searcher.store.manifest.get("built_at", "?"))
            if searcher
            else "?",
        )
    )


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Point to /help for commands the bot does not know."""
    await update.effective_message.reply_text(say(lang_of(update), "unknown_command"))


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask the asker to confirm deleting their logged questions."""
    lang = lang_of(update)
    bot_state = state(context)
    if bot_state.log is None:
        await update.effective_message.reply_text(say(lang, "forget_nothing_logged"))
        return
    if on_behalf_of_chat(update):
        await update.effective_message.reply_text(say(lang, "forget_anonymous"))
        return
    # The buttons are the asker's alone: in a group, anyone else pressing them is refused.
    request = bot_state.answers.add(Shown("", 0, asker=asker_id(update)))
    buttons = InlineKeyboardMarkup(
        [[
            InlineKeyboardButton(
                say(lang, "forget_yes"), callback_data=callbacks.forget(request, "yes")
            ),
            InlineKeyboardButton(
                say(lang, "forget_no"), callback_data=callbacks.forget(request, "no")
            ),
        ]]
    )  # fmt: skip
    await update.effective_message.reply_text(say(lang, "forget_confirm"), reply_markup=buttons)


def on_behalf_of_chat(update: Update) -> bool:
    """Whether `update` was sent as a chat: by an anonymous group admin, or by a channel.

    Such questions are never logged: no one person could /forget them (an anonymous admin
    presses buttons with their own id), and a group's pseudonym would join all its admins.
    """
    message = update.effective_message
    return bool(message and message.sender_chat)


def asker_id(update: Update) -> int | None:
    """Who sent `update`: the user, or the chat an anonymous group admin or a channel posts as.

    Anonymous admins share one Telegram user id (GroupAnonymousBot) across every group, so
    their throttle and pseudonym are keyed on the chat they speak for (negative ids: no user's).
    """
    if on_behalf_of_chat(update):
        return update.effective_message.sender_chat.id
    user = update.effective_user
    return user.id if user else None


async def moderator_here(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether a moderator's command may be answered: from a moderator, in a private chat.

    Anyone else gets the unknown-command reply; a moderator in a group only a note, so that
    logged questions are never posted into a group.
    """
    user = update.effective_user
    if not (user and user.id in state(context).moderators):
        await unknown_command(update, context)
        return False
    if update.effective_chat.type != ChatType.PRIVATE:
        await update.effective_message.reply_text(
            "Moderators' commands are answered in a private chat with the bot only."
        )
        return False
    return True


async def moderators_log(update: Update, context: ContextTypes.DEFAULT_TYPE) -> QueryLog | None:
    """Return the log for a moderator in a private chat (see `moderator_here`)."""
    if not await moderator_here(update, context):
        return None
    log = state(context).log
    if log is None:
        await update.effective_message.reply_text("The query log is not available.")
    return log


async def reply_preformatted(update: Update, text: str) -> None:
    """Reply with plain text in a <pre> block, cut to fit one message (before escaping)."""
    cut = text[: TELEGRAM_LIMIT // 2]  # escaping can double the length of "&"-heavy text
    await update.effective_message.reply_text(f"<pre>{escape(cut)}</pre>")


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Moderators: the log's statistics of the last 30 days."""
    if log := await moderators_log(update, context):
        try:
            summary = await asyncio.to_thread(log.stats, 30)
        except sqlite3.Error as error:
            await update.effective_message.reply_text(f"The query log cannot be read: {error}")
            return
        aside = await asyncio.to_thread(state(context).inbox.aside)
        kept = "".join(f"\nKept aside for inspection: {name}" for name in aside)
        await reply_preformatted(update, stats_text(summary, daily=False) + kept)


async def recent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Moderators: the last 10 questions with answered and feedback marks."""
    if log := await moderators_log(update, context):
        try:
            rows = await asyncio.to_thread(log.rows, limit=10)
        except sqlite3.Error as error:
            await update.effective_message.reply_text(f"The query log cannot be read: {error}")
            return
        await reply_preformatted(
            update, "\n".join(recent_line(r) for r in rows) or "No questions logged yet."
        )


def addressed_text(message: Message, username: str, bot_id: int) -> str | None:
    """Return the question in `message`, or None when a group message is not for the bot.

    In private chats every text is a question. In groups, only a mention of the bot (removed
    from the question) or a reply to one of the bot's messages is.
    """
    text = message.text or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    mention = f"@{username}".lower()
    for entity, value in message.parse_entities([MessageEntityType.MENTION]).items():
        if value.lower() == mention:
            return text[: entity.offset] + text[entity.offset + entity.length :]
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot_id:
        return text
    return None


def keyboard(answer_id: str, result: SearchResult, shown: int, lang: str) -> InlineKeyboardMarkup:
    """Buttons under an answer: Context per passage, then More and feedback."""
    context_row = [
        InlineKeyboardButton(
            say(lang, "button_context", html=False, number=hit.passage.paragraph),
            callback_data=callbacks.context(hit.passage.document["id"], hit.passage.paragraph),
        )
        for hit in result.hits
        if hit.passage.paragraph != CARD_PARAGRAPH  # a catalogue card has no surroundings
    ]
    last_row = [
        InlineKeyboardButton("👍", callback_data=callbacks.feedback(answer_id, "up")),
        InlineKeyboardButton("👎", callback_data=callbacks.feedback(answer_id, "down")),
    ]
    if shown < MORE_LIMIT:
        last_row.insert(
            0,
            InlineKeyboardButton(
                say(lang, "button_more"), callback_data=callbacks.more(answer_id, shown)
            ),
        )
    return InlineKeyboardMarkup([context_row, last_row])


async def search(context: ContextTypes.DEFAULT_TYPE, text: str, top_k: int) -> Answer:
    """Run the (blocking) search off the event loop."""
    return await asyncio.to_thread(answer, state(context).searcher, text, top_k)


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a question with quoted passages, or say that the archive has none."""
    message = update.effective_message
    text = addressed_text(message, context.bot.username, context.bot.id)
    if text is None:
        return  # group chatter
    bot_state = state(context)
    asker = asker_id(update)
    lang = lang_of(update)
    if not bot_state.questions.allow(asker if asker is not None else message.chat_id):
        await message.reply_text(say(lang, "slow_down"))
        return
    if bot_state.searcher is None:
        await message.reply_text(say(lang, "loading"))
        return
    try:
        await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING)
    except TelegramError:
        pass  # "typing…" is a courtesy; the answer matters
    result = await search(context, text, bot_state.top_k)
    html = to_html(result, bot_state.examples(lang), lang)
    if result.result.outcome == "none":
        await message.reply_text(html)
        log_answer(context, update, result)
        return
    shown = Shown(result.result.query, len(result.result.hits), asker=asker)
    answer_id = bot_state.answers.add(shown)
    buttons = keyboard(answer_id, result.result, shown.shown, lang)
    await message.reply_text(html, reply_markup=buttons)
    shown.logged = log_answer(context, update, result)


def log_answer(
    context: ContextTypes.DEFAULT_TYPE, update: Update, result: Answer, chat_type: str | None = None
) -> Future | None:
    """Hand an answer to the query log's writer, after the reply went out; never wait for it.

    Returns:
        The future of its log id (None at once when nothing is logged).
    """
    log = state(context).log
    if log is None or on_behalf_of_chat(update):
        return None
    user = update.effective_user
    kind = chat_type or ("private" if update.effective_chat.type == ChatType.PRIVATE else "group")
    language = user.language_code if user else None
    return log.submit(log.record_answer, result, kind, asker_id(update), language)


async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Moderators: switch to a new index now instead of within a few seconds."""
    if not await moderator_here(update, context):
        return
    bot_state = state(context)
    if bot_state.searcher is None:
        await update.effective_message.reply_text(say(lang_of(update), "loading"))
        return
    outcome = await asyncio.to_thread(bot_state.reload, True)
    await update.effective_message.reply_text(
        escape(outcome or "The bot already serves the newest index.")
    )


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the asker that only text questions are answered (private chats, replies to us)."""
    message = update.effective_message
    if message.chat.type != ChatType.PRIVATE:
        replied = message.reply_to_message
        if not (replied and replied.from_user and replied.from_user.id == context.bot.id):
            return
    await message.reply_text(say(lang_of(update), "not_text"))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle More, Context and feedback buttons; every press is answered, even forged ones."""
    query = update.callback_query
    parsed = callbacks.parse(query.data)
    bot_state = state(context)
    lang = lang_of(update)
    if parsed is None:
        await query.answer(say(lang, "button_invalid", html=False))
        return
    if bot_state.searcher is None:
        await query.answer(say(lang, "loading", html=False))
        return
    if parsed.kind == "forget":
        await forget_confirmed(update, context, parsed.answer, parsed.choice == "yes")
        return
    if parsed.kind in ("ctx", "more") and not bot_state.questions.allow(query.from_user.id):
        await query.answer(say(lang, "buttons_slow_down", html=False), show_alert=True)
        return
    if parsed.kind == "ctx":
        doc_id = bot_state.documents.get(parsed.document)
        store = bot_state.searcher.store
        numbers = (parsed.number - 1, parsed.number, parsed.number + 1) if doc_id else ()
        around = [p for number in numbers if (p := store.paragraph(doc_id, number))]
        if not any(p.paragraph == parsed.number for p in around):
            await query.answer(say(lang, "passage_gone", html=False))
            return
        await query.answer()
        if query.message:
            await query.message.reply_text(context_html(around, parsed.number, lang))
        return
    shown = bot_state.answers.get(parsed.answer)
    if shown is None:
        await query.answer(say(lang, "expired", html=False), show_alert=True)
        return
    if parsed.kind == "fb":
        if shown.asker != query.from_user.id:  # in a group, only the asker rates their answer
            await query.answer(say(lang, "feedback_not_yours", html=False), show_alert=True)
            return
        logged = shown.logged
        if logged and logged.done() and logged.result() is not None and bot_state.log:
            bot_state.log.submit(bot_state.log.feedback, logged.result(), parsed.choice)
        await query.answer(say(lang, "feedback_thanks", html=False))
        return
    start = parsed.number
    result = await search(context, shown.query, min(start + bot_state.top_k, MORE_LIMIT))
    hits = result.result.hits[start:]
    if not hits:
        await query.answer(say(lang, "no_more", html=False))
        return
    await query.answer()
    page = replace(result.result, hits=hits)
    now_shown = start + len(hits)
    shown.shown = max(shown.shown, now_shown)
    if query.message:
        await query.message.reply_text(
            to_html(Answer(page), bot_state.examples(lang), lang),
            reply_markup=keyboard(parsed.answer, page, now_shown, lang),
        )


async def forget_confirmed(
    update: Update, context: ContextTypes.DEFAULT_TYPE, request: str, yes: bool
) -> None:
    """Delete the logged questions (and answers in memory) of whoever sent /forget, or don't.

    Only they may press its buttons; anyone else gets an alert and nothing changes.
    """
    query = update.callback_query
    bot_state = state(context)
    lang = lang_of(update)
    shown = bot_state.answers.get(request)
    if shown is None or bot_state.log is None:
        await query.answer(say(lang, "forget_expired", html=False), show_alert=True)
        return
    if shown.asker != query.from_user.id:
        await query.answer(say(lang, "forget_not_yours", html=False), show_alert=True)
        return
    if yes:
        bot_state.answers.forget(shown.asker)
        deleting = bot_state.log.submit(bot_state.log.forget, shown.asker)  # after queued rows
        try:  # shielded: the deletion still runs when the log is free again
            removed = await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(deleting)), FORGET_WAIT
            )
        except TimeoutError:
            removed = None
        if removed is None:
            text = say(lang, "forget_later", html=False)
        else:
            text = say(lang, "forget_done", count=removed, html=False)
    else:
        text = say(lang, "forget_kept", html=False)
    await query.answer(text)
    if query.message:
        try:
            await query.edit_message_text(escape(text, quote=False))
        except BadRequest as error:  # a second press: the message already says so
            if "not modified" not in error.message:
                raise


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer up to five quoted passages as articles to send into any chat."""
    query = update.inline_query
    bot_state = state(context)
    lang = lang_of(update)
    text = query.query.strip()
    if not text or bot_state.searcher is None:
        hint = InlineQueryResultsButton(text=say(lang, "inline_hint"), start_parameter="help")
        await query.answer([], button=hint, cache_time=5, is_personal=True)
        return
    if not bot_state.inline.allow(query.from_user.id):
        slow = InlineQueryResultsButton(text=say(lang, "inline_slow_down"), start_parameter="help")
        await query.answer([], button=slow, cache_time=0, is_personal=True)
        return
    result = (await search(context, text, INLINE_RESULTS)).result
    if result.outcome == "none":
        none = InlineQueryResultsButton(text=say(lang, "inline_nothing"), start_parameter="help")
        await query.answer([], button=none, cache_time=10, is_personal=True)
        return
    closest = result.outcome == "closest"  # marked in each title: not an answer
    articles = [
        InlineQueryResultArticle(
            id=str(number),
            title=(
                say(lang, "inline_closest_title", html=False, text=hit.passage.text[:70])
                if closest
                else hit.passage.text[:80]
            ),
            description=attribution_of(hit.passage, lang)[:200],
            input_message_content=InputTextMessageContent(
                passage_html(hit.passage, hit.best_sentence, TELEGRAM_LIMIT, lang)
            ),
        )
        for number, hit in enumerate(result.hits)
    ]
    button = None
    if closest:
        button = InlineQueryResultsButton(text=say(lang, "inline_closest"), start_parameter="help")
    await query.answer(articles, button=button, cache_time=10, is_personal=True)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error (never the asker's text or id) and apologise to the asker."""
    error = context.error
    health = state(context).health
    if update is None and isinstance(error, Conflict):  # from getUpdates, not from an update
        if health.tell_conflict():
            logger.error(
                "Telegram refused updates (409 Conflict): another process is polling with "
                "this token; stop it, or give each bot its own token"
            )
        return
    if update is None and isinstance(error, NetworkError):
        return  # a lost connection: bot.health says so once, and when it is back
    if isinstance(error, Forbidden | ChatMigrated):  # nothing more can reach that chat now
        logger.info(
            "a reply could not be delivered (%s): the asker blocked the bot, or it is no "
            "longer in that chat",
            error.message,
        )
        return
    health.last_error, health.last_error_at = type(error).__name__, time.time()
    if isinstance(error, sqlite3.DatabaseError):  # a damaged index: one line, not a traceback
        logger.error("the index cannot be read (%s): %s", error, REBUILD_HINT)
    else:
        logger.error("error while handling an update: %s", type(error).__name__, exc_info=error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(say(lang_of(update), "apology", html=False))
        elif update.effective_message and update.effective_chat:
            await update.effective_message.reply_text(say(lang_of(update), "apology"))
    except TelegramError:
        logger.warning("could not send the apology either")


async def chosen_inline_result(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log an inline question when the asker sends one of its quotes (needs /setinlinefeedback)."""
    if state(context).searcher is None:
        return
    chosen = update.chosen_inline_result
    result = await search(context, chosen.query, INLINE_RESULTS)
    log_answer(context, update, result, chat_type="inline")


async def handled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Last for every update, after its reply (or its error): the inbox lets it go."""
    try:
        await asyncio.to_thread(state(context).inbox.handled, update.update_id)
    except sqlite3.Error as error:  # it would be answered again after a restart
        logger.warning("the inbox cannot let an update go (%s)", error)
