import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { AppConfig } from '../../platform/config/app-config.js';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** The HTML version; with it the mail is multipart/alternative (text first, then HTML). */
  html?: string;
  /** Stable per notification, so a receiving system can drop a re-sent duplicate. */
  messageId: string;
  headers?: Record<string, string>;
}

/**
 * nodemailer's connection, greeting and socket-inactivity timeouts. Its defaults (up to 10 minutes of
 * silence) would let one stuck server hold a send, and its outbox row's lease, for that long.
 */
export const SMTP_SEND_TIMEOUT_MS = 60_000;

/**
 * The SMTP transport (nodemailer) from SMTP_URL; the sender is EMAIL_FROM. Pooled: a few connections
 * are kept open and reused, instead of a connection and an SMTP handshake per mail (parameters in the
 * URL, e.g. `?pool=false` or `?maxConnections=2`, take precedence).
 */
@Injectable()
export class Mailer implements OnModuleDestroy {
  private transport: Transporter | null = null;

  constructor(private readonly config: AppConfig) {}

  async send(mail: OutgoingMail): Promise<string> {
    this.transport ??= nodemailer.createTransport({
      url: this.config.notifications.smtpUrl,
      pool: true,
      maxConnections: 5,
      connectionTimeout: SMTP_SEND_TIMEOUT_MS,
      greetingTimeout: SMTP_SEND_TIMEOUT_MS,
      socketTimeout: SMTP_SEND_TIMEOUT_MS,
    });
    const info = (await this.transport.sendMail({
      from: this.config.notifications.emailFrom,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      ...(mail.html ? { html: mail.html } : {}),
      messageId: mail.messageId,
      headers: mail.headers ?? {},
      // Quoted-printable for the text and HTML parts, chosen here: left to nodemailer, it counts the
      // Latin and non-Latin characters of every part of every mail to choose (0.1 ms a part in the
      // worker's profile during `npm run bench:payments`). Any text is valid in it; mostly-Latin
      // mails are smaller than in base64.
      textEncoding: 'quoted-printable',
    })) as { messageId?: string };
    return info.messageId ?? mail.messageId;
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }
}
