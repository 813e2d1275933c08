/* The rich text editor's images (django-prose-editor / Tiptap), loaded as an extension
   module (DJANGO_PROSE_EDITOR_EXTENSIONS in cms/settings/base.py):

   - "Insert image from the library" opens the image chooser dialog (image-chooser.js)
     and inserts the chosen image as a figure, with its alt text and caption.
   - The fix for the image lost after typing: inserting a figure leaves its image
     selected (a node selection), and ProseMirror replaces a selected node with what is
     typed; a figure must hold an image, so it put an empty one (no src) in its place,
     which saved as <img> and vanished on reload. Here, typing while a figure's image is
     selected goes into the paragraph after the figure instead (made if there is none),
     and an insertion from the chooser leaves the cursor there in the first place. */
import { Extension, pm } from "django-prose-editor/editor";

const { Plugin, PluginKey, NodeSelection, TextSelection } = pm.state;

/* The selected image's figure, as the depth of the figure in the selection's $from. */
function selectedFigureImage(selection) {
  if (!(selection instanceof NodeSelection) || selection.node.type.name !== "image") return null;
  const { $from } = selection;
  return $from.parent.type.name === "figure" ? $from.depth : null;
}

/* Put the cursor at the start of the textblock after the figure at ``depth`` of
   ``$pos`` in ``tr``, making a paragraph there if the next block is not one. */
function cursorAfterFigure(tr, $pos, depth) {
  const after = $pos.after(depth);
  const next = tr.doc.nodeAt(after);
  if (!next || !next.isTextblock) {
    tr.insert(after, tr.doc.type.schema.nodes.paragraph.create());
  }
  tr.setSelection(TextSelection.create(tr.doc, after + 1));
  return tr;
}

const keepImages = new Plugin({
  key: new PluginKey("keepFigureImages"),
  props: {
    handleTextInput(view, from, to, text) {
      const depth = selectedFigureImage(view.state.selection);
      if (depth === null) return false;
      const tr = cursorAfterFigure(view.state.tr, view.state.selection.$from, depth);
      view.dispatch(tr.insertText(text).scrollIntoView());
      return true;
    },
  },
});

function insertChosen(editor, choice) {
  const image = { type: "image", attrs: { src: choice.url, alt: choice.alt || "", file: String(choice.id) } };
  const content = [image];
  if (choice.caption) content.push({ type: "caption", content: [{ type: "text", text: choice.caption }] });
  editor.chain().focus().insertContent({ type: "figure", content }).command(({ tr }) => {
    const depth = selectedFigureImage(tr.selection);
    if (depth !== null) {
      cursorAfterFigure(tr, tr.selection.$from, depth);
    } else {
      // A caption took the cursor: find the figure around it.
      const { $from } = tr.selection;
      for (let d = $from.depth; d > 0; d -= 1) {
        if ($from.node(d).type.name === "figure") {
          cursorAfterFigure(tr, $from, d);
          break;
        }
      }
    }
    return true;
  }).run();
}

export const ImageChooser = Extension.create({
  name: "imageChooser",
  addOptions() {
    return { chooserUrl: null };
  },
  addProseMirrorPlugins() {
    return [keepImages];
  },
  addMenuItems({ menu, buttons }) {
    const { chooserUrl } = this.options;
    if (!chooserUrl) return;
    menu.defineItem({
      name: "imageChooser",
      groups: "nodes",
      button: buttons.material("add_photo_alternate", "Insert image from the library"),
      active: () => false,
      enabled: (editor) => Boolean(editor.schema.nodes.figure) && editor.isEditable,
      async command(editor) {
        if (!window.sitecontentImageChooser) return;
        const choice = await window.sitecontentImageChooser.open({
          url: chooserUrl,
          returnTo: editor.view.dom,
        });
        if (choice) insertChosen(editor, choice);
        else editor.commands.focus();
      },
    });
  },
});
