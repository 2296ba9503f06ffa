// picture.cpp - the map's picture kept in step with the replay (App::refresh_picture).
//
// Owns: the choice between moving the picture by the records the model changed since it was
// drawn (the model's change log, views::update_picture) and building it whole.
// Must not: draw, or change the model beyond starting its change log.
#include "app/app.h"

namespace hv::app {

void App::refresh_picture() {
  if (doc_->state() != session::Document::State::Ready) return;
  if (picture_.position == doc_->position()) return;
  const model::HeapModel& m = doc_->replay().model();
  // A step or a seek forward that needed no checkpoint changes a few records of a heap that may
  // hold a million: the picture follows them. A restored checkpoint, another document, or a
  // picture made elsewhere (reset_views) ends or never had the log: a whole build.
  if (!m.change_log_complete(picture_.change_log) ||
      views::update_picture(m, m.changed(), &picture_) == views::PictureUpdate::None)
    views::build_picture(m, doc_->policy(), &picture_);
  picture_.change_log = m.start_change_log();
  picture_.position = doc_->position();
}

} // namespace hv::app
