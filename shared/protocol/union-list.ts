/**
 * A runtime list of every member of a string union, checked at compile time: a member left out
 * is a type error that names it, so the list and the type cannot drift apart.
 *
 *   export const COLOURS = listOfEvery<Colour>()(['red', 'green']);
 */
export function listOfEvery<All extends string>() {
  return <const List extends readonly All[]>(list: List & ([Exclude<All, List[number]>] extends [never] ? unknown : { missing: Exclude<All, List[number]> })): List =>
    list;
}
