/** "Your report is ready" as a system notification, only when the tab is hidden and the user has allowed it. */
export function notifyReady(filename: string | null): void {
  if (typeof document === "undefined" || !document.hidden) return;
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  try {
    new Notification("Your Bloomwell report is ready", { body: filename ? `The analysis of ${filename} has finished.` : undefined, tag: "bloomwell-ready" });
  } catch {
    // Some browsers only allow notifications from a service worker; the title change still tells the user.
  }
}

/** Ask once, from a user action, whether we may notify when a report is ready. */
export async function askToNotify(): Promise<NotificationPermission | "unsupported"> {
  if (typeof Notification === "undefined") return "unsupported";
  if (Notification.permission !== "default") return Notification.permission;
  return Notification.requestPermission();
}
