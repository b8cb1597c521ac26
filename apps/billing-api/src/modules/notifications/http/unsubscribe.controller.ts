import { Controller, Get, Header, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../../platform/auth/auth.decorators.js';
import { AppConfig } from '../../../platform/config/app-config.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { escapeHtml } from '../../../platform/text/escape-html.js';
import { ApiErrors } from '../../../platform/http/api-errors.decorator.js';
import { ChangeNotificationPreferenceHandler } from '../commands/change-notification-preference/change-notification-preference.handler.js';
import { isReminder, isTemplateName, type TemplateName } from '../templates/templates.js';
import { type UnsubscribeSubject, verifyUnsubscribeToken } from '../unsubscribe/unsubscribe-token.js';
import { UnsubscribeQueryDto, UnsubscribeResultDto } from './dto/notification-preferences.dto.js';

const HUMAN_NAMES: Partial<Record<TemplateName, string>> = {
  card_expiring: 'card expiry reminders',
  trial_ending: 'trial ending reminders',
};

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
button{font-size:1rem;padding:.5rem 1rem;cursor:pointer}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>
`;
}

/**
 * One-click unsubscribe from reminder e-mails (R-NOT-3, RFC 8058). Public (the link in the mail is the
 * credential), rate limited like every route. GET only shows a confirmation page: link scanners and
 * previews follow GETs, so only the POST (the mail client's one-click request, or the page's button)
 * records the opt-out.
 */
@ApiTags('notifications')
@Public()
@Controller('v1/notifications/unsubscribe')
export class UnsubscribeController {
  constructor(
    private readonly config: AppConfig,
    private readonly change: ChangeNotificationPreferenceHandler,
  ) {}

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary:
      'The page behind the unsubscribe link of a reminder e-mail: a button that confirms with a POST. Changes nothing.',
  })
  @ApiQuery({ name: 'token', description: 'The signed token of the link.' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'An HTML page with a confirm button.', schema: { type: 'string' } })
  @ApiErrors('invalid_unsubscribe_token', 'validation_failed')
  confirmPage(@Query() query: UnsubscribeQueryDto): string {
    const subject = this.subjectOf(query.token);
    const what = HUMAN_NAMES[subject.template] ?? subject.template;
    // No action attribute: the form posts to this very URL, token included, wherever we are mounted.
    return page(
      'Unsubscribe',
      `<p>Stop sending ${escapeHtml(what)} to this account's billing address? Receipts, refunds and payment notices are always sent.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
    );
  }

  @Post()
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary:
      'RFC 8058 one-click unsubscribe: records that the account no longer wants this reminder. Idempotent; audited. Any body is accepted (mail clients send `List-Unsubscribe=One-Click`, form-encoded).',
  })
  @ApiQuery({ name: 'token', description: 'The signed token of the link.' })
  @ApiConsumes('application/x-www-form-urlencoded', 'multipart/form-data', 'application/json')
  @ApiBody({
    required: false,
    schema: { type: 'object', properties: { 'List-Unsubscribe': { type: 'string', example: 'One-Click' } } },
  })
  @ApiExtraModels(UnsubscribeResultDto)
  @ApiOkResponse({
    description: 'JSON, or an HTML confirmation when the caller (a browser) accepts HTML.',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(UnsubscribeResultDto) } },
      'text/html': { schema: { type: 'string' } },
    },
  })
  @ApiErrors('invalid_unsubscribe_token', 'not_found', 'validation_failed', 'card_data_forbidden')
  async unsubscribe(
    @Query() query: UnsubscribeQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UnsubscribeResultDto | string> {
    const subject = this.subjectOf(query.token);
    const result = await this.change.execute({
      accountId: subject.accountId,
      template: subject.template,
      subscribed: false,
      source: 'one_click',
      // Whoever holds the link: the mail's recipient (or their mail client), not an authenticated user.
      actor: { type: 'user', id: null },
      reason: 'one-click unsubscribe link (List-Unsubscribe, RFC 8058)',
    });
    const accept = String(request.headers.accept ?? '');
    if (accept.includes('text/html')) {
      void reply.header('content-type', 'text/html; charset=utf-8');
      const what = HUMAN_NAMES[result.template] ?? result.template;
      return page('Unsubscribed', `<p>You will no longer receive ${escapeHtml(what)}.</p>`);
    }
    return { template: result.template, subscribed: false };
  }

  /** The verified (account, template) of a token; 400 for a forged one or a non-reminder template. */
  private subjectOf(token: string): UnsubscribeSubject & { template: TemplateName } {
    const subject = verifyUnsubscribeToken(this.config.notifications.unsubscribeSecret, token);
    if (!subject || !isTemplateName(subject.template) || !isReminder(subject.template)) {
      throw new ApiError('invalid_unsubscribe_token', 'This unsubscribe link is invalid or was altered.', {
        param: 'token',
      });
    }
    return { accountId: subject.accountId, template: subject.template };
  }
}
