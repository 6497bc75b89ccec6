from cinestudio.gui.main_window import TAB_NAMES, MainWindow


def test_main_window_has_the_three_tabs_and_switches_by_shortcut(qtbot, tmp_path):
    window = MainWindow(tmp_path)
    qtbot.addWidget(window)
    window.show()
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == list(TAB_NAMES)
    view_actions = window.menuBar().actions()[1].menu().actions()
    view_actions[2].trigger()
    assert window.tabs.currentIndex() == 2
    assert window.tabs.widget(2) is window.storyboard_tab


def test_label_pickers_show_each_class_definition(qtbot, tmp_path):
    window = MainWindow(tmp_path)
    qtbot.addWidget(window)
    picker = window.annotate_tab.panel.pickers["movement"]
    button = picker.buttons["pan_left"]
    assert "content moves right" in button.toolTip() and "Pan left" in button.toolTip()
    picker.set_value(["pan_left"])
    assert "Pan left" in picker.definition.text() and "content moves right" in picker.definition.text()


def test_taxonomy_reference_shows_the_selected_class_definition(qtbot, tmp_path):
    window = MainWindow(tmp_path)
    qtbot.addWidget(window)
    browser = window.show_taxonomy().browser
    browser.axis_tabs.setCurrentIndex(2)
    browser.lists["movement"].setCurrentRow(1)
    assert "Pan left" in browser.details.text() and "content moves right" in browser.details.text()
