package coop.scheduler.notify;

import coop.scheduler.domain.NotifyTarget;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.Date;
import java.util.Properties;

/**
 * Delivers a notice as a plain-text mail through the operator's SMTP server (Jakarta Mail, with
 * Eclipse Angus as its implementation), the job id in its subject. Connecting, reading and writing
 * each time out, so a mail server that hangs costs one delivering thread a bounded time.
 */
final class Mail implements Channel {
    private final Session session;
    private final String from;

    Mail(String host, int port, String from, Duration timeout) {
        Properties p = new Properties();
        p.put("mail.smtp.host", host);
        p.put("mail.smtp.port", Integer.toString(port));
        String ms = Long.toString(timeout.toMillis());
        p.put("mail.smtp.connectiontimeout", ms);
        p.put("mail.smtp.timeout", ms);
        p.put("mail.smtp.writetimeout", ms);
        this.session = Session.getInstance(p);
        this.from = from;
    }

    @Override
    public void send(Notice notice, NotifyTarget target) throws MessagingException {
        MimeMessage m = new MimeMessage(session);
        m.setFrom(new InternetAddress(from));
        m.setRecipient(Message.RecipientType.TO, new InternetAddress(target.text()));
        m.setSubject(notice.subject(), "UTF-8");
        m.setText(notice.text(), "UTF-8");
        m.setSentDate(new Date());
        m.setHeader("X-Coop-Job", Long.toString(notice.jobId()));
        Transport.send(m);
    }
}
