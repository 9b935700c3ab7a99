package coop.scheduler.notify;

import coop.scheduler.domain.NotifyTarget;

/** A way of delivering a notice: one call, which returns when the target took it and throws when not. */
interface Channel {
    void send(Notice notice, NotifyTarget target) throws Exception;
}
