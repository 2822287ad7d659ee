// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/dialogs.h"

#include "server/protocol/agentdefinition.h"
#include "server/protocol/json.h"
#include "server/protocol/secretfile.h"
#include "ui/colors.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QVBoxLayout>

namespace {

QLabel* makeErrorLabel(QWidget* parent)
{
    auto* label = new QLabel(parent);
    label->setObjectName(QStringLiteral("errorLabel"));
    label->setWordWrap(true);
    QPalette palette = label->palette();
    palette.setColor(QPalette::WindowText, Colors::error(Colors::isDark(palette)));
    label->setPalette(palette);
    label->hide();
    return label;
}

void showError(QLabel* label, const QString& text)
{
    label->setText(text);
    label->setVisible(!text.isEmpty());
}

QDialogButtonBox* addButtons(QDialog* dialog, QVBoxLayout* layout, const QString& okText)
{
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, dialog);
    buttons->button(QDialogButtonBox::Ok)->setText(okText);
    QObject::connect(buttons, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(buttons);
    return buttons;
}

QLineEdit* makeLineEdit(const QString& name, const QString& placeholder, QWidget* parent)
{
    auto* edit = new QLineEdit(parent);
    edit->setObjectName(name);
    edit->setPlaceholderText(placeholder);
    return edit;
}

} // namespace

// --- ConnectHostDialog -------------------------------------------------------

ConnectHostDialog::ConnectHostDialog(QWidget* parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Connect to Host"));
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    m_url = makeLineEdit(QStringLiteral("hostUrl"), QStringLiteral("wss://bots.example.org:7700/"), this);
    m_token = makeLineEdit(QStringLiteral("hostToken"), tr("the host's viewer token"), this);
    m_token->setEchoMode(QLineEdit::PasswordEchoOnEdit);
    auto* tokenFileRow = new QHBoxLayout;
    m_tokenFile = makeLineEdit(QStringLiteral("hostTokenFile"), tr("or a file holding it (owner-only)"), this);
    auto* browseToken = new QPushButton(tr("Browse…"), this);
    connect(browseToken, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Token File"));
        if (!path.isEmpty())
            m_tokenFile->setText(path);
    });
    tokenFileRow->addWidget(m_tokenFile, 1);
    tokenFileRow->addWidget(browseToken);
    connect(m_tokenFile, &QLineEdit::textChanged, this,
            [this](const QString& path) { m_token->setEnabled(path.trimmed().isEmpty()); });
    form->addRow(tr("Address:"), m_url);
    form->addRow(tr("Token:"), m_token);
    form->addRow(tr("Token file:"), tokenFileRow);
    layout->addLayout(form);

    m_tlsBox = new QWidget(this);
    auto* tlsForm = new QFormLayout(m_tlsBox);
    tlsForm->setContentsMargins(0, 0, 0, 0);
    m_pin = makeLineEdit(QStringLiteral("hostPin"), tr("optional: accept exactly this certificate"), m_tlsBox);
    auto* caRow = new QHBoxLayout;
    m_caFile = makeLineEdit(QStringLiteral("hostCaFile"), tr("optional: extra trusted CA (PEM)"), m_tlsBox);
    auto* browse = new QPushButton(tr("Browse…"), m_tlsBox);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Trusted Certificates"), QString(),
                                                          tr("Certificates (*.pem *.crt);;All files (*)"));
        if (!path.isEmpty())
            m_caFile->setText(path);
    });
    caRow->addWidget(m_caFile, 1);
    caRow->addWidget(browse);
    tlsForm->addRow(tr("Certificate SHA-256:"), m_pin);
    tlsForm->addRow(tr("CA certificates:"), caRow);
    layout->addWidget(m_tlsBox);

    auto* hint = new QLabel(tr("wss:// addresses are verified against the system's certificates unless a "
                               "SHA-256 fingerprint is pinned. The host's connection is retried until it answers."),
                            this);
    hint->setWordWrap(true);
    hint->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(hint);
    m_error = makeErrorLabel(this);
    layout->addWidget(m_error);
    addButtons(this, layout, tr("Connect"));
    connect(m_url, &QLineEdit::textChanged, this, &ConnectHostDialog::updateTls);
    updateTls();
    resize(520, sizeHint().height());
}

void ConnectHostDialog::updateTls()
{
    m_tlsBox->setEnabled(m_url->text().trimmed().startsWith(QLatin1String("wss://"), Qt::CaseInsensitive));
}

HostEntry ConnectHostDialog::entry() const
{
    HostEntry entry;
    entry.url = QUrl(m_url->text().trimmed());
    entry.tokenFile = m_tokenFile->text().trimmed();
    if (entry.tokenFile.isEmpty())
        entry.token = m_token->text();
    if (m_tlsBox->isEnabled()) {
        entry.pinnedSha256 = m_pin->text().remove(QLatin1Char(':')).remove(QLatin1Char(' ')).toLower();
        entry.caFile = m_caFile->text().trimmed();
    }
    return entry;
}

void ConnectHostDialog::setEntry(const HostEntry& entry, bool editing)
{
    if (editing) {
        setWindowTitle(tr("Edit Host"));
        if (auto* buttons = findChild<QDialogButtonBox*>())
            buttons->button(QDialogButtonBox::Ok)->setText(tr("Save and Reconnect"));
    }
    m_url->setText(entry.url.toString());
    m_token->setText(entry.token);
    m_tokenFile->setText(entry.tokenFile);
    m_pin->setText(entry.pinnedSha256);
    m_caFile->setText(entry.caFile);
}

void ConnectHostDialog::accept()
{
    const HostEntry e = entry();
    const QString scheme = e.url.scheme();
    if (!e.url.isValid() || (scheme != QLatin1String("ws") && scheme != QLatin1String("wss"))
        || e.url.host().isEmpty()) {
        showError(m_error, tr("The address must look like ws://host:port/ or wss://host:port/."));
        return;
    }
    static const QRegularExpression hex(QStringLiteral("^[0-9a-f]{64}$"));
    if (!e.pinnedSha256.isEmpty() && !hex.match(e.pinnedSha256).hasMatch()) {
        showError(m_error, tr("A SHA-256 fingerprint has 64 hexadecimal digits (colons allowed)."));
        return;
    }
    QByteArray secret;
    QString problem;
    if (!e.tokenFile.isEmpty() && !SecretFile::read(e.tokenFile, &secret, &problem)) {
        showError(m_error, problem);
        return;
    }
    if (!e.caFile.isEmpty() && !QFileInfo::exists(e.caFile)) {
        showError(m_error, tr("%1 does not exist.").arg(e.caFile));
        return;
    }
    QDialog::accept();
}

// --- AgentDialog -------------------------------------------------------------

AgentDialog::AgentDialog(QWidget* parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Add Local Agent"));
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    m_id = makeLineEdit(QStringLiteral("agentId"), tr("letters, digits, . _ - (e.g. query)"), this);
    m_name = makeLineEdit(QStringLiteral("agentName"), tr("optional display name"), this);
    m_command = makeLineEdit(QStringLiteral("agentCommand"), QStringLiteral("/usr/bin/python3"), this);
    m_args = makeLineEdit(QStringLiteral("agentArgs"), QStringLiteral("bot.py --verbose"), this);
    auto* cwdRow = new QHBoxLayout;
    m_cwd = makeLineEdit(QStringLiteral("agentCwd"), tr("the host's directory"), this);
    auto* browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getExistingDirectory(this, tr("Working Directory"), m_cwd->text());
        if (!path.isEmpty())
            m_cwd->setText(path);
    });
    cwdRow->addWidget(m_cwd, 1);
    cwdRow->addWidget(browse);
    m_env = new QPlainTextEdit(this);
    m_env->setObjectName(QStringLiteral("agentEnv"));
    m_env->setPlaceholderText(QStringLiteral("PYTHONUNBUFFERED=1\nLOG_LEVEL=debug"));
    m_env->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_env->setFixedHeight(m_env->fontMetrics().lineSpacing() * 4 + 12);
    m_restart = new QComboBox(this);
    m_restart->setObjectName(QStringLiteral("agentRestart"));
    m_restart->addItem(tr("When it fails (exit code not 0)"), int(AgentDefinition::Restart::Unexpected));
    m_restart->addItem(tr("Always"), int(AgentDefinition::Restart::Always));
    m_restart->addItem(tr("Never"), int(AgentDefinition::Restart::Never));
    m_autostart = new QCheckBox(tr("Start with the host"), this);
    m_autostart->setObjectName(QStringLiteral("agentAutostart"));
    m_autostart->setChecked(true);
    form->addRow(tr("Id:"), m_id);
    form->addRow(tr("Name:"), m_name);
    form->addRow(tr("Command:"), m_command);
    form->addRow(tr("Arguments:"), m_args);
    form->addRow(tr("Directory:"), cwdRow);
    form->addRow(tr("Environment:"), m_env);
    form->addRow(tr("Restart:"), m_restart);
    form->addRow(QString(), m_autostart);
    layout->addLayout(form);
    m_error = makeErrorLabel(this);
    layout->addWidget(m_error);
    addButtons(this, layout, tr("Save"));
    resize(560, sizeHint().height());
}

void AgentDialog::setDefinition(const QByteArray& json)
{
    Json::Document document;
    AgentDefinition d;
    QString error;
    if (!document.parse(json) || !AgentDefinition::fromJson(document.root(), QString(), &d, &error))
        return;
    m_original = json;
    setWindowTitle(tr("Edit Agent %1").arg(QString::fromLatin1(d.id)));
    m_id->setText(QString::fromLatin1(d.id));
    m_id->setReadOnly(true);
    m_name->setText(d.name == QString::fromLatin1(d.id) ? QString() : d.name);
    m_command->setText(d.command);
    QStringList quoted;
    for (const QString& arg : d.args)
        quoted << (arg.contains(QLatin1Char(' ')) || arg.isEmpty() ? QLatin1Char('"') + arg + QLatin1Char('"') : arg);
    m_args->setText(quoted.join(QLatin1Char(' ')));
    m_cwd->setText(d.cwd);
    QStringList env;
    for (const auto& [key, value] : d.env)
        env << key + QLatin1Char('=') + value;
    m_env->setPlainText(env.join(QLatin1Char('\n')));
    m_restart->setCurrentIndex(m_restart->findData(int(d.autorestart)));
    m_autostart->setChecked(d.autostart);
}

QString AgentDialog::agentId() const
{
    return m_id->text().trimmed();
}

QByteArray AgentDialog::definition() const
{
    AgentDefinition d;
    if (!m_original.isEmpty()) {
        Json::Document document;
        QString error;
        if (document.parse(m_original))
            AgentDefinition::fromJson(document.root(), QString(), &d, &error);
    }
    d.id = agentId().toLatin1();
    d.name = m_name->text().trimmed();
    d.command = m_command->text().trimmed();
    d.args = QProcess::splitCommand(m_args->text());
    d.cwd = m_cwd->text().trimmed();
    d.env.clear();
    const QStringList lines = m_env->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    for (const QString& line : lines) {
        const qsizetype eq = line.indexOf(QLatin1Char('='));
        if (eq > 0)
            d.env.emplace_back(line.left(eq).trimmed(), line.mid(eq + 1));
    }
    d.autorestart = AgentDefinition::Restart(m_restart->currentData().toInt());
    d.autostart = m_autostart->isChecked();
    return d.toJson();
}

void AgentDialog::accept()
{
    static const QRegularExpression idPattern(QStringLiteral("^[A-Za-z0-9_.-]{1,64}$"));
    if (!idPattern.match(agentId()).hasMatch()) {
        showError(m_error, tr("The id is 1 to 64 letters, digits, dots, underscores or dashes."));
        return;
    }
    if (m_command->text().trimmed().isEmpty()) {
        showError(m_error, tr("The command is the program to run, e.g. /usr/bin/python3."));
        return;
    }
    const QStringList lines = m_env->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    for (const QString& line : lines) {
        if (!line.trimmed().isEmpty() && line.indexOf(QLatin1Char('=')) <= 0) {
            showError(m_error, tr("Environment lines are NAME=value: \"%1\"").arg(line));
            return;
        }
    }
    QDialog::accept();
}

// --- ConnectBotDialog --------------------------------------------------------

ConnectBotDialog::ConnectBotDialog(const QUrl& url, const QString& token, const QString& tokenPath, QWidget* parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Connect a Bot"));
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(tr("Bots on this computer connect to AgentDeck's own host. Give them this address and "
                                "token; they appear in the agent list as soon as they say hello."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto* form = new QFormLayout;
    const auto addCopyRow = [&](const QString& label, const QString& name, const QString& value) {
        auto* row = new QHBoxLayout;
        auto* field = new QLineEdit(value, this);
        field->setObjectName(name);
        field->setReadOnly(true);
        auto* copy = new QPushButton(tr("Copy"), this);
        copy->setObjectName(name + QStringLiteral("Copy"));
        connect(copy, &QPushButton::clicked, this, [value] { QApplication::clipboard()->setText(value); });
        row->addWidget(field, 1);
        row->addWidget(copy);
        form->addRow(label, row);
    };
    addCopyRow(tr("Address:"), QStringLiteral("botUrl"), url.toString());
    addCopyRow(tr("Token:"), QStringLiteral("botToken"), token);
    if (!tokenPath.isEmpty()) {
        auto* path = new QLabel(tr("kept in %1").arg(tokenPath), this);
        path->setForegroundRole(QPalette::PlaceholderText);
        path->setTextInteractionFlags(Qt::TextSelectableByMouse);
        form->addRow(QString(), path);
    }
    layout->addLayout(form);

    layout->addWidget(new QLabel(tr("Python (with the websockets package):"), this));
    auto* snippet = new QPlainTextEdit(pythonSnippet(url, token), this);
    snippet->setObjectName(QStringLiteral("snippet"));
    snippet->setReadOnly(true);
    snippet->setLineWrapMode(QPlainTextEdit::NoWrap);
    snippet->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    layout->addWidget(snippet, 1);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto* copy = buttons->addButton(tr("Copy Snippet"), QDialogButtonBox::ActionRole);
    copy->setObjectName(QStringLiteral("copySnippet"));
    connect(copy, &QPushButton::clicked, this,
            [snippet] { QApplication::clipboard()->setText(snippet->toPlainText()); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    resize(680, 560);
}

QString ConnectBotDialog::pythonSnippet(const QUrl& url, const QString& token)
{
    return QStringLiteral(
               "import asyncio, json, websockets\n"
               "\n"
               "async def main():\n"
               "    async with websockets.connect(\"%1\") as ws:\n"
               "        await ws.send(json.dumps({\n"
               "            \"type\": \"hello\", \"protocol\": 1, \"role\": \"agent\", \"token\": \"%2\",\n"
               "            \"agent\": {\"id\": \"my-bot\", \"name\": \"My Bot\",\n"
               "                      \"commands\": [{\"name\": \"ping\", \"help\": \"answers pong\"}]}}))\n"
               "        print(await ws.recv())  # welcome\n"
               "        await ws.send(json.dumps({\"type\": \"log\", \"lines\": [\n"
               "            {\"level\": \"INFO\", \"source\": \"my_bot\", \"text\": \"hello from my bot\"}]}))\n"
               "        async for message in ws:  # commands typed in AgentDeck\n"
               "            command = json.loads(message)\n"
               "            if command.get(\"type\") == \"command\":\n"
               "                await ws.send(json.dumps({\"type\": \"result\", \"id\": command[\"id\"],\n"
               "                                          \"ok\": True, \"text\": \"pong\"}))\n"
               "\n"
               "asyncio.run(main())\n")
        .arg(url.toString(), token);
}
