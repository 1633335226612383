// The dashboard's words, Chinese first (the default) and English.
export const WORDS = {
  zh: {
    title: '网格案件看板', token: '访问令牌', login: '登录', logout: '退出', lang: 'English',
    tab_map: '地图', tab_cases: '案件', tab_rank: '排名', tab_live: '实时预警',
    colour_by: '着色', m_open: '在办案件', m_overdue: '超期案件', m_response: '响应率', m_resolution: '解决率',
    m_satisfaction: '满意率', m_ontime: '按时办结率', open_cases: '在办案件', any: '全部',
    f_status: '状态', f_category: '类别', f_from: '起', f_to: '止', f_assignee: '承办人', search: '查询',
    first_page: '首页', prev_page: '上一页', next_page: '下一页', rank_by: '排名依据', show: '显示', live_state: '连接',
    live_on: '已连接', live_off: '重连中', unit: '单位', cases: '案件数', id: '编号', status: '状态',
    category: '类别', created: '创建', grid: '责任单位', description: '内容', no_cases: '暂无案件',
    routing: '派单依据', deadlines: '时限', accept_due: '签收时限', resolve_due: '办结时限',
    subtasks: '吹哨报到', department: '部门', arrive_due: '报到时限', arrived: '报到时间', done_at: '完成时间', history: '办理经过', back: '返回', citizen: '群众',
    escalated_to: '升级至', event: '事件', time: '时间', loading: '加载中…', grids: '个网格',
    ms: '毫秒', overdue_flag: '已超期', none: '无', level_up: '上级', units_shown: '个单位',
    counts_incomplete: '在办案件超过 5000 件，地图上的在办和超期数只统计了前 5000 件，并不完整。',
  },
  en: {
    title: 'Grid cases dashboard', token: 'Access token', login: 'Log in', logout: 'Log out', lang: '中文',
    tab_map: 'Map', tab_cases: 'Cases', tab_rank: 'Rankings', tab_live: 'Live escalations',
    colour_by: 'Colour by', m_open: 'Open cases', m_overdue: 'Overdue cases', m_response: 'Response rate',
    m_resolution: 'Resolution rate', m_satisfaction: 'Satisfaction rate', m_ontime: 'On-time resolution',
    open_cases: 'open cases', any: 'any', f_status: 'Status', f_category: 'Category', f_from: 'From', f_to: 'To',
    f_assignee: 'Assignee', search: 'Search', first_page: 'First page', prev_page: 'Previous page', next_page: 'Next page', rank_by: 'Rank by',
    show: 'Show', live_state: 'Connection', live_on: 'live', live_off: 'reconnecting', unit: 'Unit', cases: 'Cases',
    id: 'Id', status: 'Status', category: 'Category', created: 'Created', grid: 'Unit', description: 'Description',
    no_cases: 'No cases', routing: 'Routing', deadlines: 'Deadlines', accept_due: 'Accept by',
    resolve_due: 'Resolve by', subtasks: 'Summoned departments', department: 'Department', arrive_due: 'Arrive by', arrived: 'Arrived', done_at: 'Done', history: 'History',
    back: 'Back', citizen: 'Citizen', escalated_to: 'Escalated to', event: 'Event', time: 'Time',
    loading: 'Loading…', grids: 'grids', ms: 'ms', overdue_flag: 'overdue', none: 'none', level_up: 'up',
    units_shown: 'units', counts_incomplete: 'Over 5,000 open cases: the open and overdue counts on the map cover the first 5,000 only and are incomplete.',
  },
};

// Case statuses and event types, by their proto names without the prefix.
export const STATUS = {
  zh: { SUBMITTED: '已提交', ROUTED: '已派单', ACCEPTED: '已签收', IN_PROGRESS: '办理中', RESOLVED: '已答复',
    CALLED_BACK: '已回访', CLOSED: '已办结', CANCELLED: '已撤销', MERGED: '已合并', WAITING: '等待群众' },
  en: { SUBMITTED: 'submitted', ROUTED: 'routed', ACCEPTED: 'accepted', IN_PROGRESS: 'in progress',
    RESOLVED: 'resolved', CALLED_BACK: 'called back', CLOSED: 'closed', CANCELLED: 'cancelled', MERGED: 'merged',
    WAITING: 'waiting' },
};

export const EVENT = {
  zh: { SUBMITTED: '提交', ROUTED: '派单', ACCEPTED: '签收', REJECTED: '退单', REROUTED: '改派', ARBITRATION: '上级裁决',
    TRANSFERRED: '转办', NOTE: '备注', RESOLVED: '答复', CALLED_BACK: '回访', CLOSED: '办结', REOPENED: '重办',
    MERGED: '合并', MERGE_RECEIVED: '并入', CANCELLED: '撤销', ESCALATED: '升级', SUMMONED: '吹哨',
    REPORTED_IN: '报到', HELPER_ASSIGNED: '党员帮忙', DEADLINE_WARNING: '临期预警', SUBTASK_OVERDUE: '报到超时',
    WAITING: '等待', RESUMED: '恢复', EXTENDED: '延期', WORK_STARTED: '开始办理', CITIZEN_REVEALED: '查看群众信息' },
  en: {},
};
