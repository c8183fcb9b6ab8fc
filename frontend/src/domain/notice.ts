/** The not-a-diagnosis notice and the help links: one wording for the page, the print view and the exports. */

export const DISCLAIMER =
  "Bloomwell is not a diagnosis. It describes facial expressions a computer model saw in one short video; expressions " +
  "don't reliably show how someone feels, and the model makes mistakes.";

export interface HelpLink {
  name: string;
  href: string;
  text: string;
}

/** International directories of crisis lines: free and confidential, by country. */
export const HELP_LINKS: readonly HelpLink[] = [
  {
    name: "Find a Helpline",
    href: "https://findahelpline.com/",
    text: "free, confidential helplines in more than 130 countries, searchable by country and topic",
  },
  {
    name: "IASP crisis centres",
    href: "https://www.iasp.info/crisis-centres-helplines/",
    text: "the International Association for Suicide Prevention's list of crisis centres worldwide",
  },
  {
    name: "Befrienders Worldwide",
    href: "https://befrienders.org/",
    text: "emotional support centres you can call, text or visit, in many countries",
  },
];
